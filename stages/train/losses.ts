/**
 * Losses and pixel metrics of the finetune stage, as tensor functions.
 *
 * Dice is computed over the whole batch at once, as the original script does:
 * `1 - (2 * sum(y * p) + s) / (sum(y) + sum(p) + s)` with s = 1e-15, so a batch with
 * little sclera is not weighted up the way a per-image mean would weight it.
 */
import * as tf from "@tensorflow/tfjs";

export type LossName = "dice" | "dice_bce";

/** Smoothing term of the Dice loss (reference.md §2). */
export const DICE_SMOOTH = 1e-15;
/** Probabilities are clipped to [eps, 1 - eps] before the log of the cross-entropy (Keras's epsilon). */
export const BCE_EPSILON = 1e-7;
/** A pixel counts as sclera when its probability is above this (the metrics' threshold). */
export const METRIC_THRESHOLD = 0.5;

export type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

/** Dice loss over every pixel of the batch. */
export function diceLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const intersection = tf.sum(tf.mul(yTrue, yPred));
    const total = tf.add(tf.sum(yTrue), tf.sum(yPred));
    const ratio = tf.div(tf.add(tf.mul(intersection, 2), DICE_SMOOTH), tf.add(total, DICE_SMOOTH));
    return tf.sub(1, ratio) as tf.Scalar;
  });
}

/** Mean binary cross-entropy over every pixel (Keras `binary_crossentropy` on probabilities). */
export function binaryCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, BCE_EPSILON, 1 - BCE_EPSILON);
    const positive = tf.mul(yTrue, tf.log(p));
    const negative = tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p)));
    return tf.neg(tf.mean(tf.add(positive, negative))) as tf.Scalar;
  });
}

/** Dice loss plus binary cross-entropy, unweighted. */
export function diceBceLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.add(diceLoss(yTrue, yPred), binaryCrossEntropy(yTrue, yPred)) as tf.Scalar);
}

export function lossFunction(name: LossName): LossFunction {
  switch (name) {
    case "dice":
      return diceLoss;
    case "dice_bce":
      return diceBceLoss;
  }
}

/**
 * True positives, false positives and false negatives at METRIC_THRESHOLD, as one
 * float32 tensor of shape [3], so a whole pass can sum them on the device and read
 * them back once.
 */
export function confusionCounts(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const predicted = tf.cast(tf.greater(yPred, METRIC_THRESHOLD), "float32");
    const truth = tf.cast(tf.greater(yTrue, 0.5), "float32");
    const tp = tf.sum(tf.mul(predicted, truth));
    const fp = tf.sub(tf.sum(predicted), tp);
    const fn = tf.sub(tf.sum(truth), tp);
    return tf.stack([tp, fp, fn]) as tf.Tensor1D;
  });
}

export interface PixelScores {
  readonly dice: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * Pooled scores from summed counts. A ratio with nothing in it (no predicted or no true
 * sclera) is 0, except Dice of an empty prediction on an empty truth, which is 1.
 */
export function pixelScores(tp: number, fp: number, fn: number): PixelScores {
  const ratio = (num: number, den: number, empty: number): number => (den > 0 ? num / den : empty);
  return {
    dice: ratio(2 * tp, 2 * tp + fp + fn, 1),
    precision: ratio(tp, tp + fp, 0),
    recall: ratio(tp, tp + fn, 0),
  };
}
