/**
 * Decoding sclera masks: any mask file + a MaskEncoding -> one byte per pixel, 1 = sclera.
 *
 * Palette, 1/2/4-bit and 16-bit PNGs are decoded with fast-png, which keeps the samples
 * as stored: palette indices stay indices, low and high bit depths keep their values.
 * (sharp expands palettes to colours and converts to 8-bit, which silently breaks
 * class-index masks.) Plain 8-bit PNGs and other formats (JPEG, WebP, TIFF, ...) go
 * through sharp, which is much faster and exact at 8 bits.
 *
 * Thresholds and colours in an encoding are on the 0-255 scale; samples of other bit
 * depths are scaled before comparing, except class indices, which compare as stored.
 */
import { readFile } from "node:fs/promises";
import { decode as decodePng, hasPngSignature } from "fast-png";
import sharp from "sharp";
import type { MaskEncoding, Rgb } from "./dataset-manifest.js";
import { describeDecodeFailure } from "./image-files.js";

/** Default colour tolerance for `rgb` masks in lossy files (JPEG, lossy WebP). */
export const LOSSY_RGB_TOLERANCE = 48;

export interface DecodedMask {
  readonly width: number;
  readonly height: number;
  /** width * height bytes, row-major; 1 = sclera, 0 = not. */
  readonly mask: Uint8Array;
}

export interface MaskAnalysis extends DecodedMask {
  readonly scleraPixels: number;
  /** `rgb` with `known` colours only: pixels near none of the declared colours. */
  readonly unknownPixels: number;
  /** The first such pixel (row-major), to show the user. */
  readonly firstUnknown: { readonly x: number; readonly y: number; readonly colour: Rgb } | null;
}

/** Something wrong with a mask that makes it unusable for training. */
export type MaskProblem =
  | { readonly kind: "no-sclera" }
  | {
      readonly kind: "unknown-colour";
      readonly pixels: number;
      readonly x: number;
      readonly y: number;
      readonly colour: Rgb;
    };

/** Thrown when a file cannot be read as a mask under the given encoding. */
export class MaskDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MaskDecodeError";
  }
}

/** The samples of an image as stored (palette indices are not expanded). */
export interface MaskSamples {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; 1 for palette images (indices). */
  readonly channels: number;
  /** Largest sample value at the stored bit depth (1, 3, 15, 255 or 65535). */
  readonly maxValue: number;
  /** Unpacked: one element per sample. */
  readonly data: Uint8Array | Uint16Array;
  /** Palette colours [r, g, b] or, with a tRNS chunk, [r, g, b, alpha] (8-bit). */
  readonly palette: { readonly colours: readonly (readonly number[])[]; readonly hasAlpha: boolean } | null;
  /** Whether the file format is lossy (JPEG noise near class borders is expected). */
  readonly lossy: boolean;
}

export async function decodeScleraMask(file: string, encoding: MaskEncoding): Promise<DecodedMask> {
  const { width, height, mask } = await analyseScleraMask(file, encoding);
  return { width, height, mask };
}

/** Decode and count: the sclera pixels and (for `rgb` with `known`) unknown colours. */
export async function analyseScleraMask(file: string, encoding: MaskEncoding): Promise<MaskAnalysis> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new MaskDecodeError(`cannot read mask: ${messageOf(error)}`);
  }
  return analyseMaskBytes(bytes, encoding);
}

/** As `analyseScleraMask`, for bytes already in memory (the caller may hash them too). */
export async function analyseMaskBytes(bytes: Uint8Array, encoding: MaskEncoding): Promise<MaskAnalysis> {
  return scleraFromSamples(await readMaskSamples(bytes), encoding);
}

export async function readMaskSamples(bytes: Uint8Array): Promise<MaskSamples> {
  // fast-png keeps stored values but is slow; sharp is fast and exact for plain 8-bit PNGs.
  if (hasPngSignature(bytes) && !isPlain8BitPng(bytes)) return readPngSamples(bytes);
  try {
    const image = sharp(bytes, { failOn: "error" });
    const meta = await image.metadata();
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    const lossy = meta.format === "jpeg" || meta.format === "jp2" || (meta.format === "webp" && !meta.hasAlpha);
    return {
      width: info.width,
      height: info.height,
      channels: info.channels,
      maxValue: 255,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      palette: null,
      lossy,
    };
  } catch (error) {
    throw new MaskDecodeError(await describeDecodeFailure(bytes, error));
  }
}

/** 8 bits per sample and no palette (IHDR: bit depth at byte 24, colour type at 25). */
function isPlain8BitPng(bytes: Uint8Array): boolean {
  return bytes.length > 25 && bytes[24] === 8 && bytes[25] !== 3;
}

function readPngSamples(bytes: Uint8Array): MaskSamples {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (error) {
    throw new MaskDecodeError(`not a readable PNG (truncated or corrupt): ${messageOf(error)}`);
  }
  const { width, height, channels, depth } = png;
  const data = depth < 8 ? unpackBits(png.data as Uint8Array, width * channels, height, depth) : png.data;
  const expected = width * height * channels;
  if (data.length < expected) throw new MaskDecodeError(`PNG holds ${data.length} samples, expected ${expected}`);
  return {
    width,
    height,
    channels,
    maxValue: 2 ** depth - 1,
    data: data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data,
    // fast-png appends tRNS alpha to each palette colour. (A grey/RGB tRNS colour key
    // is not applied: masks rarely use one.)
    palette: png.palette ? { colours: png.palette, hasAlpha: png.palette.some((c) => c.length > 3) } : null,
    lossy: false,
  };
}

/** fast-png keeps 1/2/4-bit rows packed (each row starts on a byte); one sample per element. */
function unpackBits(packed: Uint8Array, samplesPerRow: number, rows: number, depth: number): Uint8Array {
  const out = new Uint8Array(samplesPerRow * rows);
  const stride = Math.ceil((samplesPerRow * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let row = 0; row < rows; row++) {
    for (let s = 0; s < samplesPerRow; s++) {
      const bit = s * depth;
      const byte = packed[row * stride + (bit >> 3)] ?? 0;
      out[row * samplesPerRow + s] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** The per-pixel rule of each encoding, over samples as stored. Plain loops: masks can be 5 Mpx. */
export function scleraFromSamples(samples: MaskSamples, encoding: MaskEncoding): MaskAnalysis {
  const { width, height } = samples;
  const count = width * height;
  const mask = new Uint8Array(count);
  let unknownPixels = 0;
  let firstUnknown: MaskAnalysis["firstUnknown"] = null;

  if (encoding.kind === "class-index") {
    // Palette indices and grey samples compare as stored; colour pixels must be grey.
    const { data } = samples;
    const ch = samples.palette ? 1 : samples.channels;
    for (let i = 0, k = 0; i < count; i++, k += ch) {
      const value = data[k] as number;
      if (ch >= 3 && (data[k + 1] !== value || data[k + 2] !== value)) {
        throw new MaskDecodeError(
          `class-index encoding needs a single-channel or palette mask, but pixel (${i % width}, ${Math.floor(i / width)}) ` +
            `has colour (${[value, data[k + 1], data[k + 2]].join(", ")})`,
        );
      }
      if (value === encoding.sclera) mask[i] = 1;
    }
    return finish(width, height, mask, 0, null);
  }

  const flat = samples.palette ? expandPalette(samples) : samples;
  const { data, channels: ch, maxValue } = flat;
  const toByte = 255 / maxValue;
  const hasAlpha = ch === 2 || ch === 4;
  const alphaAt = (k: number): number => (hasAlpha ? (data[k + ch - 1] as number) * toByte : 255);
  switch (encoding.kind) {
    case "binary": {
      // Grey level on the 0-255 scale, unrounded (1 of 65535 stays above 0), dimmed by alpha.
      const threshold = encoding.threshold ?? 0;
      for (let i = 0, k = 0; i < count; i++, k += ch) {
        const brightest = ch >= 3 ? Math.max(data[k] as number, data[k + 1] as number, data[k + 2] as number) : (data[k] as number);
        if ((brightest * toByte * alphaAt(k)) / 255 > threshold) mask[i] = 1;
      }
      break;
    }
    case "alpha": {
      if (!hasAlpha) throw new MaskDecodeError("alpha encoding, but the mask has no alpha channel");
      const threshold = encoding.threshold ?? 0;
      for (let i = 0, k = 0; i < count; i++, k += ch) if (alphaAt(k) > threshold) mask[i] = 1;
      break;
    }
    case "rgb": {
      const tolerance = encoding.tolerance ?? (samples.lossy ? LOSSY_RGB_TOLERANCE : 0);
      const known = encoding.known ?? [];
      const checkKnown = encoding.known !== undefined;
      const [sr, sg, sb] = encoding.sclera;
      for (let i = 0, k = 0; i < count; i++, k += ch) {
        const r = (data[k] as number) * toByte;
        const g = (ch >= 3 ? (data[k + 1] as number) : (data[k] as number)) * toByte;
        const b = (ch >= 3 ? (data[k + 2] as number) : (data[k] as number)) * toByte;
        if (Math.abs(r - sr) <= tolerance && Math.abs(g - sg) <= tolerance && Math.abs(b - sb) <= tolerance) {
          mask[i] = 1;
        } else if (checkKnown && !known.some((c) => Math.abs(r - c[0]) <= tolerance && Math.abs(g - c[1]) <= tolerance && Math.abs(b - c[2]) <= tolerance)) {
          unknownPixels++;
          firstUnknown ??= { x: i % width, y: Math.floor(i / width), colour: [Math.round(r), Math.round(g), Math.round(b)] };
        }
      }
      break;
    }
    default:
      return unknownEncoding(encoding);
  }
  return finish(width, height, mask, unknownPixels, firstUnknown);
}

function finish(width: number, height: number, mask: Uint8Array, unknownPixels: number, firstUnknown: MaskAnalysis["firstUnknown"]): MaskAnalysis {
  let scleraPixels = 0;
  for (let i = 0; i < mask.length; i++) scleraPixels += mask[i] as number;
  return { width, height, mask, scleraPixels, unknownPixels, firstUnknown };
}

/** Palette indices -> 8-bit RGB, or RGBA when the palette has transparency (tRNS). */
function expandPalette(samples: MaskSamples): MaskSamples {
  const palette = samples.palette;
  if (!palette) return samples;
  const ch = palette.hasAlpha ? 4 : 3;
  const count = samples.width * samples.height;
  const data = new Uint8Array(count * ch);
  for (let i = 0; i < count; i++) {
    const index = samples.data[i] as number;
    const colour = palette.colours[index] ?? [0, 0, 0];
    data[i * ch] = colour[0] ?? 0;
    data[i * ch + 1] = colour[1] ?? 0;
    data[i * ch + 2] = colour[2] ?? 0;
    if (palette.hasAlpha) data[i * ch + 3] = colour[3] ?? 255;
  }
  return { ...samples, channels: ch, maxValue: 255, data, palette: null };
}

/** The problems that make a decoded mask unusable: no sclera at all, unknown colours. */
export function findMaskProblems(analysis: MaskAnalysis): MaskProblem[] {
  const problems: MaskProblem[] = [];
  if (analysis.scleraPixels === 0) problems.push({ kind: "no-sclera" });
  if (analysis.unknownPixels > 0 && analysis.firstUnknown) {
    const { x, y, colour } = analysis.firstUnknown;
    problems.push({ kind: "unknown-colour", pixels: analysis.unknownPixels, x, y, colour });
  }
  return problems;
}

export function describeMaskProblem(problem: MaskProblem): string {
  switch (problem.kind) {
    case "no-sclera":
      return "mask is empty (no sclera pixel)";
    case "unknown-colour":
      return (
        `mask has ${problem.pixels} pixel(s) of no declared class colour, ` +
        `first at (${problem.x}, ${problem.y}): (${problem.colour.join(", ")})`
      );
    default:
      return unknownProblem(problem);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unknownEncoding(value: never): never {
  throw new MaskDecodeError(`unknown mask encoding ${JSON.stringify(value)}`);
}

function unknownProblem(value: never): never {
  throw new Error(`unknown mask problem ${JSON.stringify(value)}`);
}
