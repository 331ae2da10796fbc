/** Folder names of the SSBC submission layout (cheap to import: no I/O, no sharp). */

/** 8-bit greyscale probability maps, p * 255 rounded. */
export const PREDICTIONS_DIR = "Predictions";
/** Black (0) and white (255) masks. */
export const BINARISED_DIR = "Binarised";
/** 0/255 sclera masks, written by the `predict` stage when the truth is known. */
export const GROUND_TRUTH_DIR = "GroundTruth";
