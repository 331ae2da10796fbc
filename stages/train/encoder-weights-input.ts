/**
 * The encoder weights file a fine-tune reads, as an external input of its fingerprint:
 * a swapped weights file (other bytes) must rerun the stage, wherever the file was found.
 */
import path from "node:path";

import type { ExternalInput } from "../../pipeline/stage.js";
import { kerasWeightsFileName, locateImagenetWeights, WEIGHTS_ENV_VAR } from "../model/imagenet-weights-location.js";

/**
 * `encoder.weights` as external inputs: none for `none`; a path given in the experiment,
 * keyed by that path; for `imagenet`, the file a run would use ($MU_PIPE_WEIGHTS, else
 * the Keras cache), keyed by the Keras file name, since where it was found does not
 * matter. When there is no such file yet, the run downloads it and checks it against
 * the official sha256, so that sha256 stands in for the digest: the key is the same as
 * with the official file present. When no sha256 is known either, the run cannot get
 * weights and fails with its own message (naming every place it looked), so nothing is
 * declared.
 */
export function encoderWeightsInputs(weights: string, alpha: number, baseDir: string, env: NodeJS.ProcessEnv, homeDir: string): ExternalInput[] {
  if (weights === "none") return [];
  if (weights !== "imagenet") return [{ path: path.resolve(baseDir, weights), about: "encoder.weights" }];
  const location = locateImagenetWeights(alpha, env, homeDir);
  const input: ExternalInput = {
    path: location.path,
    about: `encoder.weights: imagenet, from $${WEIGHTS_ENV_VAR} or the Keras cache`,
    key: `imagenet-weights:${kerasWeightsFileName(alpha)}`,
  };
  if (location.found) return [input];
  return location.downloadSha256 === undefined ? [] : [{ ...input, digestIfAbsent: `sha256:${location.downloadSha256}` }];
}
