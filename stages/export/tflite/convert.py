"""Converts a Keras .h5 file that mu-pipe wrote into a .tflite file.

Called by mu-pipe (stages/export/tflite/convert-tflite.ts), not meant to be run by hand:

    python3 convert.py REQUEST.json

REQUEST.json: {"h5", "out", "quantize": "none"|"float16"|"int8", "scaling": "imagenet"|"unit",
"size", "calibration": raw uint8 file of N x size x size x 3 pixel values or null, "count": N}.

int8 is full-integer post-training quantisation with uint8 input and output. The input
scaling (x / 127.5 - 1 or x / 255) goes into the model as its first layer, so the uint8
input is the camera's pixel values themselves: the calibration samples span 0..255, which
makes the input's quantisation scale 1 and zero point 0. Prints one JSON line with the
input and output tensors' types and quantisation; exits 3 when TensorFlow is missing.
"""
import json
import sys

from tf_setup import SCALINGS, np, tf


def with_scaling_inside(model, size, scaling):
    """A model taking 0..255 pixel values: the input scaling, then `model`."""
    scale, offset = SCALINGS[scaling]
    pixels = tf.keras.Input(shape=(size, size, 3), name="pixels")
    scaled = tf.keras.layers.Rescaling(scale, offset, name="input_scaling")(pixels)
    return tf.keras.Model(pixels, model(scaled), name="mu_net_uint8")


def calibration_samples(request):
    """The calibration images as 1 x size x size x 3 float32 pixel values, in file order."""
    size = request["size"]
    images = np.fromfile(request["calibration"], dtype=np.uint8).reshape(request["count"], size, size, 3)
    for i, image in enumerate(images):
        sample = image.astype(np.float32)[None]
        if i == 0:
            # The input's quantisation comes from the range the samples span; pin it to the
            # whole 0..255 so that camera bytes need no rescaling (scale 1, zero point 0).
            sample[0, 0, 0, :] = 0.0
            sample[0, 0, 1, :] = 255.0
        yield [sample]


def tensor_facts(detail):
    scale, zero_point = detail["quantization"]
    return {"dtype": np.dtype(detail["dtype"]).name, "shape": [int(d) for d in detail["shape"]], "scale": float(scale), "zero_point": int(zero_point)}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    model = tf.keras.models.load_model(request["h5"], compile=False)
    quantize = request["quantize"]
    if quantize == "int8":
        model = with_scaling_inside(model, request["size"], request["scaling"])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: calibration_samples(request)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    elif quantize != "none":
        raise SystemExit(f"unknown quantize {quantize!r}")
    flatbuffer = converter.convert()
    with open(request["out"], "wb") as f:
        f.write(flatbuffer)
    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    print(json.dumps({
        "tensorflow": tf.__version__,
        "input": tensor_facts(interpreter.get_input_details()[0]),
        "output": tensor_facts(interpreter.get_output_details()[0]),
    }))


if __name__ == "__main__":
    main()
