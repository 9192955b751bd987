#!/usr/bin/python3
"""Makes the PyTorch ONNX fixtures for nfsim's import tests and the bundled example model.

Run with Debian's interpreter (it has python3-torch, python3-numpy, python3-onnx):
    /usr/bin/python3 scripts/make_torch_fixture.py

It trains a small MLP on Fashion-MNIST (Debian's dataset-fashion-mnist) for a short while with
fixed seeds, exports it with torch.onnx.export at opsets 9 and 17, and writes PyTorch's own
outputs on the first 100 test images, computed in float64 from the same (float32) weights, so that
nfsim's import is checked against PyTorch to well below the 1e-5 tolerance.

Outputs (all small, committed):
    tests/fixtures/torch_mlp_opset9.onnx, tests/fixtures/torch_mlp_opset17.onnx
    tests/fixtures/torch_mlp_expected.npy        (100 x 10 model outputs, softmax included)
    tests/fixtures/torch_mlp_expected_logits.npy (100 x 10 pre-softmax outputs)
    examples/models/fmnist_mlp_small.onnx        (the same model, opset 17)
"""
import gzip
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        ndim = magic[3]
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


class Mlp(nn.Module):
    """Covers the importer's operators: Flatten, Gemm, Relu, Mul by a scalar, Tanh, LeakyRelu,
    Dropout (no-op at inference), Softmax."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 32)
        self.drop = nn.Dropout(0.1)
        self.fc4 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = torch.relu(self.fc1(x))
        x = torch.tanh(0.5 * self.fc2(x))
        x = nn.functional.leaky_relu(self.fc3(x), 0.1)
        x = self.drop(x)
        return torch.softmax(self.fc4(x), dim=1)

    def logits(self, x):
        x = self.flatten(x)
        x = torch.relu(self.fc1(x))
        x = torch.tanh(0.5 * self.fc2(x))
        x = nn.functional.leaky_relu(self.fc3(x), 0.1)
        return self.fc4(x)


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    train_x = torch.tensor(read_idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
    train_y = torch.tensor(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_x = torch.tensor(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
    test_y = torch.tensor(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)

    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        perm = torch.randperm(train_x.shape[0])
        for i in range(0, train_x.shape[0], 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model.logits(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model.logits(test_x).argmax(1) == test_y).float().mean().item()
    print(f"test accuracy: {acc:.4f}")

    fixtures = os.path.join(ROOT, "tests", "fixtures")
    os.makedirs(fixtures, exist_ok=True)
    dummy = torch.zeros(1, 1, 28, 28)
    for opset in (9, 17):
        torch.onnx.export(model, dummy, os.path.join(fixtures, f"torch_mlp_opset{opset}.onnx"), opset_version=opset,
                          input_names=["image"], output_names=["probabilities"],
                          dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}})
    os.makedirs(os.path.join(ROOT, "examples", "models"), exist_ok=True)
    torch.onnx.export(model, dummy, os.path.join(ROOT, "examples", "models", "fmnist_mlp_small.onnx"),
                      opset_version=17, input_names=["image"], output_names=["probabilities"],
                      dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}})

    # Reference outputs in float64 from the very same float32 weights.
    ref = Mlp().double()
    ref.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    ref.eval()
    images = torch.tensor(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")[:100], dtype=torch.float64) / 255.0
    with torch.no_grad():
        np.save(os.path.join(fixtures, "torch_mlp_expected.npy"), ref(images.unsqueeze(1)).numpy())
        np.save(os.path.join(fixtures, "torch_mlp_expected_logits.npy"), ref.logits(images.unsqueeze(1)).numpy())
    print("wrote fixtures to", fixtures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
