#!/usr/bin/python3
"""Makes the PyTorch ONNX fixtures for nfsim's convolutional import tests (issue 15).

Run with Debian's interpreter (it has python3-torch, python3-numpy, python3-onnx):
    /usr/bin/python3 scripts/make_torch_cnn_fixture.py
(one thread, well under a minute).

Two small CNNs, trained briefly on a subset of Fashion-MNIST (Debian's dataset-fashion-mnist,
pixels scaled to [0, 1]) with fixed seeds; accuracy is not the point, non-trivial weights are.
- Model A: Conv(1->4, 3x3, padding 1) -> ReLU -> MaxPool(2) -> Conv(4->8, 3x3, padding 1) -> ReLU
  -> AvgPool(2, padding 1, count_include_pad) -> Flatten -> Linear(512->16) -> ReLU ->
  Linear(16->10). The padded average pool counting the pad is exported as a Pad node (zeros)
  followed by an unpadded AveragePool; the script checks that the Pad is there.
- Model B: Conv(1->6, 3x3, stride 2, padding 1) -> BatchNorm -> Tanh -> depthwise Conv(6->6, 3x3,
  groups 6, padding 1) -> BatchNorm -> Tanh -> AdaptiveAvgPool(1) -> Flatten -> Linear(6->10). The
  BN affine parameters start from random non-trivial values, and the brief training (train mode)
  gives non-trivial running statistics; exported in eval mode. torch 1.13's exporter folds every
  BatchNorm into the Conv before it when exporting with training=EVAL (its eval peephole pass runs
  whatever do_constant_folding says), so the models are exported with training=PRESERVE from eval
  mode: the BatchNormalization nodes stay, in inference form (one output; training_mode=0 at
  opset 17). The script checks that both BatchNormalization nodes and the GlobalAveragePool are
  there, and that no Identity node appears (PRESERVE turns initialisers with equal values into
  Identity nodes, which non-trivial BN parameters avoid).
Every export: input "image" (N x 1 x 28 x 28), output "logits" (N x 10), dynamic batch, checked
with onnx.checker; its initialisers are checked to equal the model's float32 parameters and
buffers, and its op list is printed.

Outputs (all small, committed):
    tests/fixtures/torch_cnn_opset13.onnx, tests/fixtures/torch_cnn_opset17.onnx (model A)
    tests/fixtures/torch_cnn_bn_tanh_opset13.onnx, tests/fixtures/torch_cnn_bn_tanh_opset17.onnx
                                                  (model B)
    tests/fixtures/torch_cnn_expected_logits.npy         (100 x 10, model A's logits)
    tests/fixtures/torch_cnn_bn_tanh_expected_logits.npy (100 x 10, model B's logits)
The expected logits are PyTorch's outputs on the first 100 test images, computed in float64
(a .double() copy, eval mode) from the very same float32 weights.
"""
import copy
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from fmnist_data import DATA, ROOT, read_idx

TRAIN_SUBSET = 12800  # images of the training set used, one pass each
BATCH = 128


def model_a():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2, padding=1, count_include_pad=True),
        nn.Flatten(), nn.Linear(8 * 8 * 8, 16), nn.ReLU(), nn.Linear(16, 10))


def model_b():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.Tanh(),
        nn.Conv2d(6, 6, 3, padding=1, groups=6), nn.BatchNorm2d(6), nn.Tanh(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10))
    with torch.no_grad():
        for bn in (model[1], model[4]):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
    return model


def train(model, train_x, train_y):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(train_x.shape[0])[:TRAIN_SUBSET]
    for i in range(0, TRAIN_SUBSET, BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        loss_fn(model(train_x[idx]), train_y[idx]).backward()
        opt.step()
    model.eval()
    return model


def export(model, path, opset, **kw):
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=opset,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, **kw)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    state = model.state_dict()
    for init in proto.graph.initializer:
        if init.name in state:
            assert np.array_equal(numpy_helper.to_array(init), state[init.name].numpy()), init.name
    ops = [n.op_type for n in proto.graph.node]
    print(f"{os.path.relpath(path, ROOT)}: {' '.join(ops)}  ({os.path.getsize(path)} bytes)")
    return ops


def expected_logits(model, images):
    ref = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return ref(images).numpy()


def main():
    start = time.time()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    train_x = torch.tensor(read_idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255.0
    train_y = torch.tensor(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_u8 = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")
    test_x = torch.tensor(test_u8, dtype=torch.float32).unsqueeze(1) / 255.0
    test_y = torch.tensor(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    images = torch.tensor(test_u8[:100], dtype=torch.float64).unsqueeze(1) / 255.0
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    os.makedirs(fixtures, exist_ok=True)

    a = train(model_a(), train_x, train_y)
    b = train(model_b(), train_x, train_y)
    for name, model in (("A", a), ("B", b)):
        with torch.no_grad():
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"model {name}: test accuracy {acc:.4f} after one pass over {TRAIN_SUBSET} training images")
    for i in (1, 4):
        bn = b[i]
        print(f"model B BatchNorm {i}: weight {bn.weight.detach().numpy().round(3)}, bias {bn.bias.detach().numpy().round(3)}, "
              f"running_mean {bn.running_mean.numpy().round(3)}, running_var {bn.running_var.numpy().round(3)}")

    for opset in (13, 17):
        ops = export(a, os.path.join(fixtures, f"torch_cnn_opset{opset}.onnx"), opset)
        assert ops.count("Conv") == 2 and "MaxPool" in ops and "AveragePool" in ops, ops
        assert ops.index("Pad") == ops.index("AveragePool") - 1, "the exporter did not put a Pad before AveragePool"
        ops = export(b, os.path.join(fixtures, f"torch_cnn_bn_tanh_opset{opset}.onnx"), opset,
                     training=torch.onnx.TrainingMode.PRESERVE)
        assert ops.count("BatchNormalization") == 2, "the exporter folded a BatchNorm away"
        assert "GlobalAveragePool" in ops and "Identity" not in ops, ops
    np.save(os.path.join(fixtures, "torch_cnn_expected_logits.npy"), expected_logits(a, images))
    np.save(os.path.join(fixtures, "torch_cnn_bn_tanh_expected_logits.npy"), expected_logits(b, images))
    for name, model in (("A", a), ("B", b)):
        with torch.no_grad():
            f32 = model(images.float()).double().numpy()
        ref = expected_logits(model, images)
        print(f"model {name}: float64 vs float32 logits on the 100 images differ by at most {np.abs(ref - f32).max():.2e}")
    print(f"wrote fixtures to {fixtures} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
