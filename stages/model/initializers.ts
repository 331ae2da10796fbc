/**
 * Kernel initialisers. Keras's default (Glorot uniform) everywhere; with a seed, each
 * layer draws from its own stream derived from (seed, layer name), so the same seed
 * builds the same weights whichever layers exist before it.
 */
import * as tf from "@tensorflow/tfjs";

/** FNV-1a over the text: a stable 32-bit seed per layer, without node:crypto in model code. */
function layerSeed(seed: number, layerName: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}:${layerName}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Glorot uniform for `layerName`; seeded when `seed` is given. */
export function glorotUniform(seed: number | undefined, layerName: string): ReturnType<typeof tf.initializers.glorotUniform> | "glorotUniform" {
  return seed === undefined ? "glorotUniform" : tf.initializers.glorotUniform({ seed: layerSeed(seed, layerName) });
}
