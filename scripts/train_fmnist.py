#!/usr/bin/python3
"""Trains the bundled Fashion-MNIST models and exports them as ONNX.

Run with Debian's interpreter (python3-torch, python3-numpy from scripts/install-deps.sh --python):
    /usr/bin/python3 scripts/train_fmnist.py

Two 784-256-128-10 relu MLPs, fixed seeds, Debian's dataset-fashion-mnist:
- examples/models/fmnist_mlp.onnx: plain cross-entropy training;
- examples/models/fmnist_mlp_reg.onnx: the same plus the paper's fault-tolerance regulariser, the
  b3 variance penalty  lambda * mean_k [ p * sum_i (y_i * df_k/dy_i)^2 ]  summed over the hidden
  layers (y: the hidden layer's outputs, f: the logits), here with p = 0.01 and lambda = LAMBDA.
For this relu network df/dy_1 = W3 diag(relu'(z2)) W2 and df/dy_2 = W3, so the penalty is computed
in closed form per sample. Prints both test accuracies and writes them to
examples/models/accuracy.json (checked by the test suite with nfsim eval).
"""
import os
import sys

import torch
from torch import nn

from fmnist_data import DATA, ROOT, read_idx, record_accuracy

P = 0.01
LAMBDA = 20.0
EPOCHS = 6


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x, keep=False):
        x = self.flatten(x)
        z1 = self.fc1(x)
        y1 = torch.relu(z1)
        z2 = self.fc2(y1)
        y2 = torch.relu(z2)
        out = self.fc3(y2)
        return (out, y1, z2, y2) if keep else out


def b3_penalty(model, y1, z2, y2):
    w2, w3 = model.fc2.weight, model.fc3.weight  # (128, 256), (10, 128)
    mask = (z2 > 0).to(y1.dtype)  # relu'(z2), (B, 128)
    g1 = torch.einsum("kh,bh,hi->bki", w3, mask, w2)  # df/dy1, (B, 10, 256)
    t1 = ((g1 * y1[:, None, :]) ** 2).sum(-1).mean(-1)
    t2 = ((w3[None, :, :] * y2[:, None, :]) ** 2).sum(-1).mean(-1)  # df/dy2 = W3
    return P * (t1 + t2).mean()


def train(regularised, train_x, train_y):
    torch.manual_seed(1)
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        perm = torch.randperm(train_x.shape[0])
        for i in range(0, train_x.shape[0], 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            out, y1, z2, y2 = model(train_x[idx], keep=True)
            loss = loss_fn(out, train_y[idx])
            if regularised:
                loss = loss + LAMBDA * b3_penalty(model, y1, z2, y2)
            loss.backward()
            opt.step()
    model.eval()
    return model


def main():
    torch.set_num_threads(2)
    train_x = torch.tensor(read_idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
    train_y = torch.tensor(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_x = torch.tensor(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
    test_y = torch.tensor(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    results = {}
    for name, reg in (("fmnist_mlp", False), ("fmnist_mlp_reg", True)):
        model = train(reg, train_x, train_y)
        with torch.no_grad():
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
            _, y1, z2, y2 = model(test_x[:1000], keep=True)
            pen = b3_penalty(model, y1, z2, y2).item()
        print(f"{name}: test accuracy {acc:.4f} on 10000 images; b3 variance penalty (p = {P}) {pen:.4g}")
        results[name] = {"test_accuracy": round(acc, 4), "b3_penalty": pen, "regulariser_lambda": LAMBDA if reg else 0.0}
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(ROOT, "examples", "models", name + ".onnx"),
                          opset_version=13, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    record_accuracy(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
