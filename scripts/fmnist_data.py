"""What the Fashion-MNIST training scripts share (train_fmnist.py, train_tanh_mlp.py): reading
Debian's dataset files and recording test accuracies in examples/models/accuracy.json. numpy
only, so that train_tanh_mlp.py still needs no torch.
"""
import gzip
import json
import os
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        dims = struct.unpack(">" + "I" * magic[3], f.read(4 * magic[3]))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def record_accuracy(entries):
    """Writes `entries` (model name: its numbers) into examples/models/accuracy.json; the other
    scripts' models stay."""
    path = os.path.join(ROOT, "examples", "models", "accuracy.json")
    kept = json.load(open(path)) if os.path.exists(path) else {}
    kept.update(entries)
    with open(path, "w") as f:
        json.dump(kept, f, indent=1)
        f.write("\n")
