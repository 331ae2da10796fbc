/**
 * Where the ImageNet MobileNetV2 weights file is, without reading it: the names and
 * places `resolveImagenetWeights` (imagenet-weights.ts) searches, and which file a run
 * would use, so the fine-tune's fingerprint can hold its digest. No HDF5 code here: the
 * stage registry imports this, and `status` must stay quick.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";

/** Environment variable naming a weights file, or a folder holding the Keras file name. */
export const WEIGHTS_ENV_VAR = "MU_PIPE_WEIGHTS";

/**
 * sha256 of the official downloads. Only the 0.35 file's digest is known for certain; other
 * widths cannot be downloaded (Keras itself does not check these files), only supplied.
 */
export const OFFICIAL_SHA256: Readonly<Partial<Record<string, string>>> = {
  [kerasWeightsFileName(0.35)]: "df1c3db1d0d9193719c4c70f707c56f7021f999f825bdc57454c275cf6def19f",
};

/** Keras's file name for the ImageNet MobileNetV2 weights without the classifier. */
export function kerasWeightsFileName(alpha: number, size = 224): string {
  return `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alphaText(alpha)}_${size}_no_top.h5`;
}

/** Where Keras keeps downloaded models: `$KERAS_HOME/models`, else `~/.keras/models`. */
export function kerasCacheDir(env: NodeJS.ProcessEnv, homeDir: string): string {
  const kerasHome = env.KERAS_HOME;
  return path.join(kerasHome !== undefined && kerasHome !== "" ? kerasHome : path.join(homeDir, ".keras"), "models");
}

/** Keras writes 1.0 as "1.0" and 0.35 as "0.35" (Python's str of a float). */
export function alphaText(alpha: number): string {
  return Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha);
}

/** The `$MU_PIPE_WEIGHTS` candidate: the file it names, or the Keras file name in the folder it names. */
export function envWeightsCandidate(envValue: string, fileName: string): string {
  return existsSync(envValue) && statSync(envValue).isDirectory() ? path.join(envValue, fileName) : envValue;
}

export interface WeightsLocation {
  /** The file a run would read: the first that exists of `$MU_PIPE_WEIGHTS` and the Keras cache, else where a download is saved. */
  readonly path: string;
  /** Whether a file is at `path` (else a run would download it there). */
  readonly found: boolean;
  /** Set when no file exists yet: the sha256 (hex) a download must have; undefined when none is known (a run cannot get the file). */
  readonly downloadSha256?: string;
}

/**
 * The ImageNet weights file a run with `alpha` would use, by existence alone (a run also
 * checks the file's layers; a broken file in the Keras cache is replaced by a download,
 * after which the next `status` sees the new digest and reruns once).
 */
export function locateImagenetWeights(alpha: number, env: NodeJS.ProcessEnv, homeDir: string): WeightsLocation {
  const fileName = kerasWeightsFileName(alpha);
  const envValue = env[WEIGHTS_ENV_VAR];
  if (envValue !== undefined && envValue !== "") {
    const candidate = envWeightsCandidate(envValue, fileName);
    if (existsSync(candidate)) return { path: candidate, found: true };
  }
  const cached = path.join(kerasCacheDir(env, homeDir), fileName);
  if (existsSync(cached)) return { path: cached, found: true };
  const sha256 = OFFICIAL_SHA256[fileName];
  return sha256 === undefined ? { path: cached, found: false } : { path: cached, found: false, downloadSha256: sha256 };
}
