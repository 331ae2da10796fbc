/**
 * How 0..255 pixel values become model inputs. The ImageNet MobileNetV2 weights expect
 * [-1, 1]; the original MU-Net script fed [0, 1].
 */
import * as tf from "@tensorflow/tfjs";

export const INPUT_SCALINGS = ["imagenet", "unit"] as const;
/** `imagenet`: x / 127.5 - 1, range [-1, 1]; `unit`: x / 255, range [0, 1]. */
export type InputScaling = (typeof INPUT_SCALINGS)[number];

/**
 * Scales a batch of NHWC images with values 0..255 (uint8, int32 or float) to float32
 * model inputs. Does not dispose `images`.
 */
export function scaleImages(images: tf.Tensor, scaling: InputScaling): tf.Tensor4D {
  if (images.rank !== 4) {
    throw new Error(`scaleImages expects a batch of images [batch, height, width, channels], got shape [${images.shape.join(", ")}]`);
  }
  return tf.tidy(() => {
    const x = tf.cast(images, "float32");
    switch (scaling) {
      case "imagenet":
        return tf.sub(tf.div(x, 127.5), 1) as tf.Tensor4D;
      case "unit":
        return tf.div(x, 255) as tf.Tensor4D;
      default:
        return unknownScaling(scaling);
    }
  });
}

function unknownScaling(scaling: never): never {
  throw new Error(`input scaling must be one of ${INPUT_SCALINGS.join(", ")}, got ${JSON.stringify(scaling)}`);
}
