/**
 * The file names of a mu-pipe model folder. No TensorFlow here: commands that only
 * look for a model folder (which folder is a model, a run, or neither) import this.
 */
export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
export const METADATA_JSON = "mu-model.json";
