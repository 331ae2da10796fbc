/**
 * The parameters of one synthetic eye photo. `sampleScene` (in sample-scene.ts) draws
 * them from a seed; `renderScene` (in compose.ts) turns them into pixels. Keeping the
 * two apart lets tests pin one parameter (say, the gaze) and render.
 *
 * Lengths are in canonical eye units (half the corner-to-corner width of the eye)
 * unless the name says px. Colours are [0, 1] RGB before the camera model.
 */
import type { EyeFrame, Rgb } from "./geometry.js";

export type Gaze = "left" | "right" | "up" | "down" | "centre";
export type IrisColour = "brown" | "dark-brown" | "hazel" | "green" | "blue" | "grey";
export type LightLevel = "normal" | "dim" | "low";
export type View = "closeup" | "webcam" | "face";

/** Eyelid curves: the aperture is the region between them (see lids.ts). */
export interface LidShape {
  /** Height of the temporal corner above the nasal one is -2 * tilt (v points down). */
  readonly tilt: number;
  /** Peak opening of the upper / lower lid away from the corner line. */
  readonly upper: number;
  readonly lower: number;
  /** Where along u in (-1, 1) each lid reaches its peak. */
  readonly upperPeak: number;
  readonly lowerPeak: number;
  /** Exponent of the bump: < 1 rounds the lid, > 1 makes the almond pointier. */
  readonly upperPow: number;
  readonly lowerPow: number;
}

export interface LidLook {
  /** Thickness of the dark lash line above the aperture. */
  readonly lashLine: number;
  readonly lashLineDark: number;
  /** Thickness and colour of the wet lower-lid margin (waterline). */
  readonly waterline: number;
  readonly waterlineColour: Rgb;
  /** Distance of the upper-lid crease above the lid margin, and how dark it is. */
  readonly creaseGap: number;
  readonly creaseDark: number;
  /** Multiplier on the skin of the upper lid (eyeshadow or a pinker lid). */
  readonly lidTint: Rgb;
  /** Darkness of the under-eye band. */
  readonly underEyeDark: number;
}

export interface IrisLook {
  readonly colour: IrisColour;
  /** Iris radius. */
  readonly radius: number;
  /** Pupil radius as a fraction of the iris radius. */
  readonly pupil: number;
  readonly outer: Rgb;
  readonly inner: Rgb;
  readonly pupilColour: Rgb;
  /** How dark the limbal ring is, 0..1, and its width as a fraction of the radius. */
  readonly limbal: number;
  readonly limbalWidth: number;
  /** Number of radial fibres around the circle and their contrast. */
  readonly fibres: number;
  readonly fibreContrast: number;
  readonly seed: number;
}

export interface ScleraLook {
  readonly base: Rgb;
  /** Darkening of the eyeball toward its sides (sphere shading), 0..1. */
  readonly sideShade: number;
  /** Extra darkening toward the two corners, 0..1. */
  readonly cornerShade: number;
  /** Amplitude of low-frequency tint blotches (pink/yellow). */
  readonly blotch: number;
  /** Shadow cast by the upper lid and lashes: strength and width. */
  readonly lidShadow: number;
  readonly lidShadowWidth: number;
  /** Amount of visible vessels, 0..1, and their colour. */
  readonly vessels: number;
  readonly vesselColour: Rgb;
  readonly seed: number;
}

export interface Highlight {
  /** Offset from the iris centre. */
  readonly du: number;
  readonly dv: number;
  readonly rx: number;
  readonly ry: number;
  readonly strength: number;
  /** 0: hard-edged spot, 1: soft glow. */
  readonly softness: number;
}

export interface LashLook {
  readonly upperCount: number;
  readonly lowerCount: number;
  readonly upperLength: number;
  readonly lowerLength: number;
  /** Stroke width at the root. */
  readonly width: number;
  /** How much upper lashes hang down over the aperture before curling up, 0..1. */
  readonly droop: number;
  readonly colour: Rgb;
  readonly seed: number;
}

export interface EyeParams {
  readonly frame: EyeFrame;
  readonly lids: LidShape;
  readonly lidLook: LidLook;
  /** Eyeball sphere: centre and radius in canonical units. */
  readonly ballU: number;
  readonly ballV: number;
  readonly ballRadius: number;
  /** Gaze angles in radians: yaw > 0 looks toward the image's right, pitch > 0 looks down. */
  readonly yaw: number;
  readonly pitch: number;
  readonly iris: IrisLook;
  readonly sclera: ScleraLook;
  readonly caruncleWidth: number;
  readonly caruncleColour: Rgb;
  readonly highlights: readonly Highlight[];
  readonly lashes: LashLook;
}

export interface BrowLook {
  /** Lowest point of the brow above the corner line (negative v), arch height, thickness. */
  readonly v: number;
  readonly arch: number;
  readonly thickness: number;
  readonly density: number;
  readonly colour: Rgb;
  readonly seed: number;
}

export interface FaceLook {
  readonly skin: Rgb;
  readonly textureAmp: number;
  readonly poreAmp: number;
  readonly redness: number;
  readonly seed: number;
  /** Darkening of the eye socket, highlight on the brow bone and nose. */
  readonly socketDark: number;
  readonly browBoneLight: number;
  readonly noseLight: number;
  /** Distance between the two eyes' canonical origins. */
  readonly eyeSpacing: number;
  readonly brow: BrowLook | null;
  /** A dark region (hair, headphones, background) bounded by a wavy line. */
  readonly occluder: {
    readonly kind: "hair" | "headphones" | "background";
    /** Unit normal pointing into the occluded side, and the boundary's offset along it (px). */
    readonly nx: number;
    readonly ny: number;
    readonly offsetPx: number;
    readonly colour: Rgb;
    readonly seed: number;
  } | null;
}

export interface CameraLook {
  readonly light: LightLevel;
  /**
   * Auto-exposure target: the frame's mean luminance after exposure (before the tone
   * curve). Webcams expose for the scene, so low light shows as noise, cast and low
   * contrast more than as darkness.
   */
  readonly exposure: number;
  readonly cast: Rgb;
  /** Linear brightness ramp across the image: direction and relative amount. */
  readonly gradientAngle: number;
  readonly gradient: number;
  readonly vignette: number;
  readonly gamma: number;
  readonly blackLevel: number;
  readonly saturation: number;
  readonly blurPx: number;
  /** Standard deviation of sensor noise in [0, 1] units, and its chroma share. */
  readonly noise: number;
  readonly chroma: number;
  readonly seed: number;
}

export interface OverlayLook {
  readonly timestamp: { readonly text: string; readonly x: number; readonly y: number; readonly glyphPx: number } | null;
  /** A rotated-frame black border, like a rotated-then-cropped photo. */
  readonly border: { readonly angle: number; readonly scale: number } | null;
}

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly view: View;
  readonly gaze: Gaze;
  readonly face: FaceLook;
  /** The first eye is the subject; a second one may be partly visible in wide views. */
  readonly eyes: readonly EyeParams[];
  readonly camera: CameraLook;
  readonly overlay: OverlayLook;
  readonly attributes: Readonly<Record<string, string>>;
}
