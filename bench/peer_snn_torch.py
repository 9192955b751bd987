#!/usr/bin/python3
"""The peer of benchmark 14: the spiking campaign (bench/campaigns/peer_snn.yaml) as a PyTorch user
would write it, time-stepped and batched.

The bundled MLP (Gemm + Relu) is converted by data-based normalisation on the same inputs as
nfsim (the percentile of each hidden layer's positive activations, nearest rank, computed in
float64), and run as integrate-and-fire layers (threshold 1, reset by subtraction, no leak) for T
steps with regular input spike trains (a spike at step t iff floor((t+1) x) > floor(t x)) and the
membrane readout (the output layer's current summed over the steps / T). Neuron crashes: a
Bernoulli(p) mask per (trial, input, hidden neuron), drawn afresh for every trial and input and
held for the inference's T steps, silences the neuron's spikes. `--batch-trials` trials run
together, every input of each (one matrix product per layer and step for all of them). The model
runs in float32, the statistics of Delta = faulty - fault-free readout in float64.

Writes the same JSON as bench/peer_torch.py (per input and output the mean and std of Delta and
their standard errors, and trials per second of the Monte-Carlo loop alone).
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def fail(msg):
    print(f"peer_snn_torch.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_images(path, count, scale):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if count > n:
        fail(f"{path}: {n} images, {count} asked")
    return np.frombuffer(data, np.uint8, offset=16, count=count * rows * cols).reshape(count, rows * cols) * scale


def layers(path):
    model = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type == "Gemm":
            trans_b = [a.i for a in node.attribute if a.name == "transB"]
            w = init[node.input[1]]
            out.append((w if trans_b and trans_b[0] else w.T, init[node.input[2]]))
        elif node.op_type not in ("Relu", "Flatten"):
            fail(f"{path}: op {node.op_type} not supported (expected Gemm, Relu, Flatten)")
    return out


def convert(ws, x, percentile):
    lambdas = [1.0]
    a = x.T
    for w, b in ws[:-1]:
        a = np.maximum(w @ a + b[:, None], 0.0)
        pos = np.sort(a[a > 0])
        k = min(max(math.ceil(percentile / 100.0 * pos.size), 1), pos.size) if pos.size else 0
        lambdas.append(float(pos[k - 1]) if pos.size else 1.0)
    lambdas.append(1.0)
    return [(w * lambdas[l] / lambdas[l + 1], b / lambdas[l + 1]) for l, (w, b) in enumerate(ws)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--scale", type=float, default=0.00392156862745098)
    ap.add_argument("--time-steps", type=int, default=32)
    ap.add_argument("--percentile", type=float, default=99.9)
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--batch-trials", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: every core)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 0 <= a.p <= 1:
        fail(f"--p {a.p}: expected a probability in [0, 1]")
    if a.trials % a.batch_trials:
        fail(f"--trials {a.trials}: expected a multiple of --batch-trials {a.batch_trials}")
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    torch.manual_seed(a.seed)
    x = read_images(a.images, a.count, a.scale)
    conv = convert(layers(a.model), x, a.percentile)
    W = [torch.tensor(w, dtype=torch.float32) for w, _ in conv]
    B = [torch.tensor(b, dtype=torch.float32) for _, b in conv]
    T, N, p, bt = a.time_steps, a.count, a.p, a.batch_trials
    # Regular input trains, T x N x n0.
    r = np.clip(x, 0.0, 1.0)
    trains = np.stack([(np.floor((t + 1) * r) > np.floor(t * r)) for t in range(T)]).astype(np.float32)
    trains = torch.from_numpy(trains)

    def run(masks, rows):
        """The readout of `rows` inferences (the inputs repeated per trial) under hidden-layer masks."""
        v = [torch.zeros(rows, w.shape[0]) for w in W[:-1]]
        acc = torch.zeros(rows, W[-1].shape[0])
        reps = rows // N
        for t in range(T):
            s = trains[t].repeat(reps, 1)
            for l in range(len(W) - 1):
                v[l] += torch.addmm(B[l], s, W[l].T)
                s = (v[l] >= 1.0).float()
                v[l] -= s
                if masks is not None:
                    s = s * masks[l]
            acc += torch.addmm(B[-1], s, W[-1].T)
        return acc / T

    with torch.no_grad():
        clean = run(None, N).repeat(bt, 1)
        K = clean.shape[1]
        s1 = torch.zeros(N, K, dtype=torch.float64)
        s2, s3, s4 = torch.zeros_like(s1), torch.zeros_like(s1), torch.zeros_like(s1)
        start = time.perf_counter()
        for _ in range(a.trials // bt):
            masks = [(torch.rand(bt * N, w.shape[0]) >= p).float() for w in W[:-1]]
            d = (run(masks, bt * N) - clean).double().reshape(bt, N, K)
            d2 = d * d
            s1 += d.sum(0)
            s2 += d2.sum(0)
            s3 += (d2 * d).sum(0)
            s4 += (d2 * d2).sum(0)
        seconds = time.perf_counter() - start
    n = float(a.trials)
    mean = s1 / n
    var = (s2 / n - mean * mean).clamp(min=0)
    m4 = s4 / n - 4 * mean * s3 / n + 6 * mean * mean * s2 / n - 3 * mean ** 4
    std = var.sqrt()
    se_mean = (var / n).sqrt()
    se_std = ((m4 - var * var).clamp(min=0) / n).sqrt() / (2 * std.clamp(min=1e-300))
    json.dump({"trials": a.trials, "inputs": N, "p": p, "time_steps": T, "batch_trials": bt, "seconds": seconds,
               "trials_per_second": a.trials / seconds, "dtype": str(clean.dtype), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "mean": mean.tolist(), "std": std.tolist(),
               "se_mean": se_mean.tolist(), "se_std": se_std.tolist()},
              open(a.out, "w"))


if __name__ == "__main__":
    main()
