"""Shared start of mu-pipe's TFLite scripts (convert.py, run.py): quiet, CPU-only
TensorFlow, or exit 3 so mu-pipe can say how to install it; the input scalings."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

NO_TENSORFLOW = 3

try:
    import numpy as np  # noqa: F401  (re-exported)
    import tensorflow as tf  # noqa: F401
except ImportError as error:
    print(f"no-tensorflow: {error}", file=sys.stderr)
    sys.exit(NO_TENSORFLOW)

SCALINGS = {"imagenet": (1 / 127.5, -1.0), "unit": (1 / 255.0, 0.0)}
