#!/usr/bin/python3
"""The peer of benchmark 1: the paper's Monte-Carlo experiment as its authors ran it, in PyTorch.

A framework forward pass over all inputs, repeated once per trial, with dropout-style crash masks
on every hidden layer: F.dropout(h, p) * (1 - p), i.e. a Bernoulli(1 - p) mask without the
1 / (1 - p) rescaling, drawn afresh for every (trial, input, neuron), as in El Mhamdi et al.'s
notebooks. The model runs in the framework's default precision (float32); the statistics of
Delta = f_faulty(x) - f(x) are accumulated in float64 (power sums up to the fourth).

Writes a JSON file: per input and output the mean and std of Delta and their standard errors,
and the time of the Monte-Carlo loop alone (the model and data are loaded before the clock starts,
as nfsim's monte_carlo_s excludes its set-up).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def fail(msg):
    print(f"peer_torch.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load_mlp(path):
    """(weight, bias, relu_after) per Gemm of a Flatten/Gemm/Relu ONNX graph."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    layers = []
    for node in model.graph.node:
        if node.op_type == "Flatten":
            continue
        if node.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            w = inits[node.input[1]]
            if not attrs.get("transB", 0):
                w = w.T
            layers.append([torch.from_numpy(w.astype(np.float32).copy()),
                           torch.from_numpy(inits[node.input[2]].astype(np.float32).copy()), False])
        elif node.op_type == "Relu":
            if not layers:
                fail(f"{path}: Relu before any Gemm")
            layers[-1][2] = True
        else:
            fail(f"{path}: op {node.op_type} not supported by the peer (expected Flatten, Gemm, Relu)")
    return layers


def read_idx_images(path, count):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if count > n:
        fail(f"{path}: {n} images, {count} asked")
    pixels = np.frombuffer(data, np.uint8, offset=16, count=count * rows * cols)
    return pixels.reshape(count, rows * cols).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--scale", type=float, default=1 / 255)
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--trials", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 0 <= a.p <= 1:
        fail(f"--p {a.p}: expected a probability in [0, 1]")
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(a.seed)
    layers = load_mlp(a.model)
    x = torch.from_numpy(read_idx_images(a.images, a.count) * np.float32(a.scale))
    p = a.p

    def forward(h, faulty):
        for i, (w, b, relu) in enumerate(layers):
            h = F.linear(h, w, b)
            if relu:
                h = F.relu(h)
            if faulty and i + 1 < len(layers):  # every hidden layer
                h = F.dropout(h, p, training=True) * (1 - p)
        return h

    with torch.no_grad():
        clean = forward(x, False)
        shape = clean.shape
        s1 = torch.zeros(shape, dtype=torch.float64)
        s2, s3, s4 = torch.zeros_like(s1), torch.zeros_like(s1), torch.zeros_like(s1)
        start = time.perf_counter()
        for _ in range(a.trials):
            d = (forward(x, True) - clean).double()
            d2 = d * d
            s1 += d
            s2 += d2
            s3 += d2 * d
            s4 += d2 * d2
        seconds = time.perf_counter() - start
    n = float(a.trials)
    mean = s1 / n
    var = (s2 / n - mean * mean).clamp(min=0)
    m4 = s4 / n - 4 * mean * s3 / n + 6 * mean * mean * s2 / n - 3 * mean ** 4
    std = var.sqrt()
    se_mean = (var / n).sqrt()
    # Var(s^2) ~ (mu4 - sigma^4) / n, carried to s by the delta method (as nfsim's intervals).
    se_std = ((m4 - var * var).clamp(min=0) / n).sqrt() / (2 * std.clamp(min=1e-300))
    json.dump({"trials": a.trials, "inputs": a.count, "p": p, "seconds": seconds,
               "trials_per_second": a.trials / seconds, "dtype": str(clean.dtype),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "mean": mean.tolist(), "std": std.tolist(), "se_mean": se_mean.tolist(), "se_std": se_std.tolist()},
              open(a.out, "w"))


if __name__ == "__main__":
    main()
