#!/usr/bin/python3
"""Trains a second Fashion-MNIST model, a 784-100-50-10 tanh MLP, with plain numpy, and exports it
as ONNX (no torch needed).

Run with Debian's interpreter (python3-numpy and python3-onnx, scripts/install-deps.sh --python):
    /usr/bin/python3 scripts/train_tanh_mlp.py

The kind of network users bring (tanh hidden layers, logits out), smaller than a 784-300-100-10
one so that nfsim's tests on it stay quick. Fixed seed, Debian's dataset-fashion-mnist (pixels
scaled to [0, 1]), minibatch Adam on the cross-entropy, EPOCHS epochs. Writes
examples/models/fmnist_tanh_mlp.onnx (opset 13: Flatten, Gemm, Tanh) and its test accuracy on the
10000 test images into examples/models/accuracy.json (other entries kept; checked by the test
suite with nfsim eval). Used by examples/campaigns/fmnist_tanh.yaml and nfsim tolerate's tests.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fmnist_data import DATA, ROOT, read_idx, record_accuracy

NAME = "fmnist_tanh_mlp"
WIDTHS = [784, 100, 50, 10]
EPOCHS = 8
BATCH = 128
LR = 1e-3


def forward(params, x):
    """Returns the pre-activations and activations of every layer (tanh hidden, linear output)."""
    acts, zs = [x], []
    for i, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        zs.append(z)
        acts.append(np.tanh(z) if i + 1 < len(params) else z)
    return zs, acts


def train(train_x, train_y):
    rng = np.random.default_rng(1)
    params = []
    for fan_in, fan_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform, for tanh
        params.append([rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32), np.zeros(fan_out, np.float32)])
    m = [[np.zeros_like(w), np.zeros_like(b)] for w, b in params]
    v = [[np.zeros_like(w), np.zeros_like(b)] for w, b in params]
    beta1, beta2, step = 0.9, 0.999, 0
    n = train_x.shape[0]
    for epoch in range(EPOCHS):
        perm = rng.permutation(n)
        total = 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            x, y = train_x[idx], train_y[idx]
            zs, acts = forward(params, x)
            logits = acts[-1]
            logits = logits - logits.max(axis=1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(axis=1, keepdims=True)
            total += -np.log(prob[np.arange(len(y)), y] + 1e-12).sum()
            grad = prob
            grad[np.arange(len(y)), y] -= 1
            grad /= len(y)
            step += 1
            for l in range(len(params) - 1, -1, -1):
                w, b = params[l]
                gw, gb = grad.T @ acts[l], grad.sum(axis=0)
                if l > 0:
                    grad = (grad @ w) * (1 - acts[l] ** 2)  # tanh'
                for j, g in enumerate((gw, gb)):
                    m[l][j] = beta1 * m[l][j] + (1 - beta1) * g
                    v[l][j] = beta2 * v[l][j] + (1 - beta2) * g * g
                    mh = m[l][j] / (1 - beta1 ** step)
                    vh = v[l][j] / (1 - beta2 ** step)
                    params[l][j] = (params[l][j] - LR * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        print(f"epoch {epoch + 1}: mean cross-entropy {total / n:.4f}")
    return params


def export(params, path):
    nodes = [helper.make_node("Flatten", ["image"], ["x0"], axis=1)]
    inits = []
    for i, (w, b) in enumerate(params):
        inits += [numpy_helper.from_array(w, f"fc{i + 1}.weight"), numpy_helper.from_array(b, f"fc{i + 1}.bias")]
        out = "logits" if i + 1 == len(params) else f"z{i + 1}"
        nodes.append(helper.make_node("Gemm", [f"x{i}", f"fc{i + 1}.weight", f"fc{i + 1}.bias"], [out], transB=1))
        if i + 1 < len(params):
            nodes.append(helper.make_node("Tanh", [out], [f"x{i + 1}"]))
    graph = helper.make_graph(nodes, NAME,
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", WIDTHS[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="nfsim scripts/train_tanh_mlp.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def main():
    train_x = read_idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    train_y = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    test_y = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    params = train(train_x, train_y)
    acc = float((forward(params, test_x)[1][-1].argmax(axis=1) == test_y).mean())
    print(f"{NAME}: test accuracy {acc:.4f} on 10000 images")
    export(params, os.path.join(ROOT, "examples", "models", NAME + ".onnx"))
    record_accuracy({NAME: {"test_accuracy": round(acc, 4)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
