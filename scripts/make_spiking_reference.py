#!/usr/bin/python3
"""An independent time-stepped reference for nfsim's spiking arrays (docs/spiking.md).

Run with Debian's interpreter (python3-numpy, python3-onnx):
    /usr/bin/python3 scripts/make_spiking_reference.py

It reads the bundled Fashion-MNIST MLP (examples/models/fmnist_mlp.onnx: Gemm + Relu layers) with
onnx's numpy_helper, converts it to a spiking network by data-based normalisation, written here
from the definition (the percentile of each hidden layer's positive activations, nearest rank), and
simulates integrate-and-fire arrays step by step with dense numpy products: none of nfsim's code
or its event-driven updates. tests/unit/test_spiking.cpp runs `nfsim eval --spiking` with the same
settings and compares the outputs.

Outputs (small, committed): tests/fixtures/spiking_ref/<case>.npy, 40 x 10 outputs per case, and
tests/fixtures/spiking_ref/cases.txt, one line per case: name and the nfsim eval flags.
"""
import gzip
import math
import os
import struct

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(ROOT, "tests", "fixtures", "spiking_ref")
COUNT = 40  # test images; calibration on the same images (nfsim eval's default)

CASES = [
    # name, settings
    ("if_subtract_T32", dict(T=32, neuron="if", leak=1.0, reset="subtract", refractory=0, readout="membrane", percentile=99.9)),
    ("lif_zero_refractory_T20_rate", dict(T=20, neuron="lif", leak=0.9, reset="zero", refractory=1, readout="rate", percentile=100.0)),
    ("if_zero_T8", dict(T=8, neuron="if", leak=1.0, reset="zero", refractory=0, readout="membrane", percentile=50.0)),
]


def images(count):
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        _, n, rows, cols = struct.unpack(">IIII", f.read(16))
        raw = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8)
    return raw.reshape(count, rows * cols).astype(np.float64) * 0.00392156862745098


def layers():
    model = onnx.load(os.path.join(ROOT, "examples", "models", "fmnist_mlp.onnx"))
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type == "Gemm":
            trans_b = [a.i for a in node.attribute if a.name == "transB"]
            w = init[node.input[1]]
            out.append((w if trans_b and trans_b[0] else w.T, init[node.input[2]]))
    return out  # (W: n_l x n_{l-1}, b)


def percentile(values, p):
    pos = np.sort(values[values > 0].ravel())
    if pos.size == 0:
        return 1.0
    k = min(max(math.ceil(p / 100.0 * pos.size), 1), pos.size)
    return float(pos[k - 1])


def convert(ws, x, p):
    lambdas = [1.0]
    a = x.T
    for l, (w, b) in enumerate(ws[:-1]):
        a = np.maximum(w @ a + b[:, None], 0.0)
        lambdas.append(percentile(a, p))
    lambdas.append(1.0)
    return [(w * lambdas[l] / lambdas[l + 1], b / lambdas[l + 1]) for l, (w, b) in enumerate(ws)]


def regular(r, t):
    if not r > 0:
        return 0
    if r >= 1:
        return 1
    return int(math.floor((t + 1) * r) > math.floor(t * r))


def simulate(ws, x, s):
    T = s["T"]
    leak = s["leak"] if s["neuron"] == "lif" else 1.0
    L = len(ws)
    v = [np.zeros(w.shape[0]) for w, _ in ws]
    refr = [np.zeros(w.shape[0], dtype=int) for w, _ in ws]
    acc = np.zeros(ws[-1][0].shape[0])
    for t in range(T):
        spikes = np.array([regular(xi, t) for xi in x], dtype=np.float64)
        for l, (w, b) in enumerate(ws):
            current = w @ spikes + b
            if l == L - 1 and s["readout"] == "membrane":
                acc += current
                break
            out = np.zeros(w.shape[0])
            for j in range(w.shape[0]):
                if refr[l][j] > 0:
                    refr[l][j] -= 1
                    continue
                v[l][j] = leak * v[l][j] + current[j]
                if v[l][j] >= 1.0:
                    out[j] = 1.0
                    v[l][j] = v[l][j] - 1.0 if s["reset"] == "subtract" else 0.0
                    refr[l][j] = s["refractory"]
            if l == L - 1:
                acc += out
            spikes = out
    return acc / T


def flags(s):
    f = ["--spiking", str(s["T"]), "--neuron", s["neuron"], "--reset", s["reset"], "--refractory-steps", str(s["refractory"]),
         "--readout", s["readout"], "--percentile", repr(s["percentile"])]
    if s["neuron"] == "lif":
        f += ["--leak", repr(s["leak"])]
    return " ".join(f)


def main():
    os.makedirs(OUT, exist_ok=True)
    x = images(COUNT)
    ws = layers()
    lines = []
    for name, s in CASES:
        conv = convert(ws, x, s["percentile"])
        y = np.stack([simulate(conv, x[n], s) for n in range(COUNT)])
        np.save(os.path.join(OUT, name + ".npy"), y)
        lines.append(name + " " + flags(s))
        print(name, y.shape, "first row", np.round(y[0], 4))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
