"""Runs a .tflite file on images, for mu-pipe's export self-check
(stages/export/tflite/tflite-predictor.ts); not meant to be run by hand:

    python3 run.py REQUEST.json

REQUEST.json: {"model", "images": raw uint8 file of N x size x size x 3 pixel values, "count",
"size", "scaling": "imagenet"|"unit", "out": file for N x size x size float32 probabilities}.

A float model gets the scaled input (x / 127.5 - 1 or x / 255, as mu-pipe scales for TF.js);
a uint8 model gets the pixel values as they are, and its uint8 output is read back as
probabilities with the output's scale and zero point. One image per invoke, as a phone
runs it. Prints one JSON line: the median milliseconds per image. Exits 3 when TensorFlow
is missing.
"""
import json
import sys
import time

from tf_setup import SCALINGS, np, tf


def make_interpreter(model):
    """LiteRT's interpreter where installed (tf.lite.Interpreter is deprecated), else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    return Interpreter(model_path=model, num_threads=1)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    count, size = request["count"], request["size"]
    images = np.fromfile(request["images"], dtype=np.uint8).reshape(count, size, size, 3)
    interpreter = make_interpreter(request["model"])
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    scale, offset = SCALINGS[request["scaling"]]
    out_scale, out_zero = target["quantization"]
    probabilities = np.empty((count, size, size), dtype="<f4")
    times = []
    for i in range(count):
        if source["dtype"] == np.uint8:
            x = images[i][None]
        else:
            x = (images[i][None].astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(source["dtype"])
        started = time.perf_counter()
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(target["index"])
        times.append((time.perf_counter() - started) * 1000)
        if target["dtype"] == np.uint8 or target["dtype"] == np.int8:
            y = (y.astype(np.float32) - out_zero) * out_scale
        probabilities[i] = y.reshape(size, size)
    probabilities.tofile(request["out"])
    print(json.dumps({"median_ms": float(np.median(times)) if times else 0.0}))


if __name__ == "__main__":
    main()
