#!/usr/bin/python3
"""The peer of benchmarks 1 and 9: the paper's Monte-Carlo experiment as its authors ran it, in PyTorch.

A framework forward pass over all inputs, repeated once per trial, with dropout-style crash masks
on every hidden layer: F.dropout(h, p) * (1 - p), i.e. a Bernoulli(1 - p) mask without the
1 / (1 - p) rescaling, drawn afresh for every (trial, input, neuron), as in El Mhamdi et al.'s
notebooks. The model is an ONNX chain of Gemm, Conv, Relu, MaxPool, AveragePool, Flatten and
Reshape (an MLP or a CNN); the mask acts on every weighted layer's activations but the last one's,
after the activation and before any pooling (nfsim's neurons, docs/faults.md). The model runs in the framework's default precision (float32); the statistics of
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


def load_chain(path):
    """The model's nodes as torch operations, in order: ("linear", w, b), ("conv", w, b, attrs),
    ("relu",), ("maxpool", attrs), ("avgpool", attrs), ("flatten",)."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32, order="C", copy=True))
    ops = []
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Flatten", "Reshape"):
            ops.append(("flatten",))
        elif node.op_type == "Gemm":
            w = inits[node.input[1]]
            if not attrs.get("transB", 0):
                w = w.T
            ops.append(("linear", t(w), t(inits[node.input[2]])))
        elif node.op_type == "Conv":
            if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                fail(f"{path}: Conv with auto_pad not supported by the peer")
            pads = attrs.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3]:
                fail(f"{path}: asymmetric Conv padding not supported by the peer")
            bias = t(inits[node.input[2]]) if len(node.input) > 2 else None
            ops.append(("conv", t(inits[node.input[1]]), bias,
                        dict(stride=tuple(attrs.get("strides", [1, 1])), padding=(pads[0], pads[1]),
                             dilation=tuple(attrs.get("dilations", [1, 1])), groups=attrs.get("group", 1))))
        elif node.op_type == "Relu":
            ops.append(("relu",))
        elif node.op_type in ("MaxPool", "AveragePool"):
            pads = attrs.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3] or attrs.get("ceil_mode", 0):
                fail(f"{path}: {node.op_type} with asymmetric padding or ceil_mode not supported by the peer")
            pool = dict(kernel_size=tuple(attrs["kernel_shape"]), stride=tuple(attrs.get("strides", attrs["kernel_shape"])),
                        padding=(pads[0], pads[1]))
            if node.op_type == "AveragePool":
                pool["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
            ops.append(("maxpool" if node.op_type == "MaxPool" else "avgpool", pool))
        else:
            fail(f"{path}: op {node.op_type} not supported by the peer (expected Gemm, Conv, Relu, MaxPool, "
                 "AveragePool, Flatten, Reshape)")
    return ops


def make_forward(ops, p):
    """forward(h, faulty): the chain, with the crash mask after each hidden weighted layer's
    activation (before the op that follows it: a pooling, the next weighted layer)."""
    weighted = [i for i, op in enumerate(ops) if op[0] in ("linear", "conv")]
    last = weighted[-1]

    def forward(h, faulty):
        pending = False
        for i, op in enumerate(ops):
            if pending and op[0] != "relu":
                h = F.dropout(h, p, training=True) * (1 - p)
                pending = False
            kind = op[0]
            if kind == "linear":
                h = F.linear(h.flatten(1), op[1], op[2])
            elif kind == "conv":
                h = F.conv2d(h, op[1], op[2], **op[3])
            elif kind == "relu":
                h = F.relu(h)
            elif kind == "maxpool":
                h = F.max_pool2d(h, **op[1])
            elif kind == "avgpool":
                h = F.avg_pool2d(h, **op[1])
            elif kind == "flatten":
                h = h.flatten(1)
            if kind in ("linear", "conv") and faulty and i != last:
                pending = True
        if pending:
            h = F.dropout(h, p, training=True) * (1 - p)
        return h

    return forward


def read_idx_images(path, count, images=False):
    """count x rows*cols, or count x 1 x rows x cols with images=True (NCHW, for a CNN)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if count > n:
        fail(f"{path}: {n} images, {count} asked")
    pixels = np.frombuffer(data, np.uint8, offset=16, count=count * rows * cols)
    shape = (count, 1, rows, cols) if images else (count, rows * cols)
    return pixels.reshape(shape).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--scale", type=float, default=1 / 255)
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--trials", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: every core)")
    ap.add_argument("--forward-only", type=int, default=0, metavar="N",
                    help="instead of the Monte Carlo: time N fault-free forward passes over the inputs")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 0 <= a.p <= 1:
        fail(f"--p {a.p}: expected a probability in [0, 1]")
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    torch.manual_seed(a.seed)
    ops = load_chain(a.model)
    conv = any(op[0] == "conv" for op in ops)
    x = torch.from_numpy(read_idx_images(a.images, a.count, images=conv) * np.float32(a.scale))
    p = a.p
    forward = make_forward(ops, p)

    if a.forward_only:
        # Plain inference throughput: the framework's own CPU forward pass over the batch.
        with torch.no_grad():
            forward(x, False)
            start = time.perf_counter()
            for _ in range(a.forward_only):
                out = forward(x, False)
            seconds = time.perf_counter() - start
        json.dump({"passes": a.forward_only, "inputs": a.count, "seconds": seconds,
                   "inferences_per_second": a.forward_only * a.count / seconds, "dtype": str(out.dtype),
                   "torch": torch.__version__, "threads": torch.get_num_threads()}, open(a.out, "w"))
        return
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
