#!/usr/bin/python3
"""Makes an independent PyTorch reference for nfsim's fault math on a tiny CNN (issue 15).

Run with Debian's interpreter (it has python3-torch, python3-numpy, python3-onnx):
    /usr/bin/python3 scripts/make_torch_cnn_references.py
(one thread, about three minutes, nearly all of it the Monte Carlo of conv layer 1).

Model T: Conv(1->4, 3x3) -> ReLU -> MaxPool(2) -> Conv(4->8, 3x3) -> Tanh -> AvgPool(2) ->
Flatten -> Linear(200->10), logits out. On 28x28 inputs: conv1 4x26x26 -> max pool 4x13x13 ->
conv2 8x11x11 -> average pool 8x5x5 (the pool drops row and column 10, so those conv2 neurons
have no effect) -> 200 -> 10. torch 1.13 exports the average pool (count_include_pad, PyTorch's
default) as Constant + Pad + AveragePool even though the padding is 0: a Pad of all-zero pads
(checked), which nfsim's importer has to take as a no-op. Trained briefly (one pass of Adam over 12800 training images,
seed 0) so that the weights are non-trivial; exported at opset 13 (input "image", output
"logits", dynamic batch) as tests/fixtures/torch_cnn_small.onnx, float32 weights.

nfsim's numbering: layer 0 is the input, layer 1 conv1, layer 2 conv2, layer 3 the Linear
(output). The neurons of conv layer l are its post-activation outputs (channel, y, x) BEFORE
pooling, flat index i = (c*H + y)*W + x; a crashed neuron outputs 0, which enters the pooling
(no rescaling). A synapse of conv layer l is one kernel weight W[o, c, ky, kx] (flat index in the
ONNX tensor's order), shared by every output position; crashing it zeroes it everywhere. Biases
are not synapses. F: the logits; p = P = 0.02 for every term below.

Everything is computed in float64 from the float32 weights (a .double() copy), on Fashion-MNIST
test images scaled to [0, 1] (uint8 / 255): the first MC_IMAGES = 10 for the Monte Carlo, the
first BOUND_IMAGES = 5 for the b3/b4 terms. The Monte Carlo is independent of nfsim's code: its
own seeded torch generator, 50000 trials per image and layer, each trial drawing every neuron of
the layer crashed independently with probability p (uniform draw < p).

tests/fixtures/torch_cnn_small_refs/NAME.npy, one file per array below (np.save, so that nfsim's
NPY reader loads them; T = image, k = output, all float64 except the two scalars):
    mc_p              ()  the crash probability of the Monte Carlo, 0.02
    mc_trials         ()  trials per image and layer, 50000 (int64)
    clean_logits      [10, 10]  F on the first 10 test images, fault-free
    mc_l{1,2}_mean    [10, 10]  mean over trials of Delta = F(faulty) - F(clean), neuron crashes
                                in conv layer l only
    mc_l{1,2}_std     [10, 10]  standard deviation of Delta (ddof = 1)
    mc_l{1,2}_mean_se [10, 10]  standard error of the mean: std / sqrt(n)
    mc_l{1,2}_std_se  [10, 10]  standard error of the std, delta method on the sample variance:
                                sqrt((m4 - s^4 (n-3)/(n-1)) / n) / (2 s), m4 the 4th central
                                sample moment (divided by n), s the std above, n = mc_trials
    b3_l{1,2}_mean    [5, 10]   neurons, first order: p * sum_i e_i with e_i = -y_i dF_k/dy_i
                                (y_i the clean post-activation value; dF_k/dy_i by autograd on
                                the pre-pool activation, max pool's gradient going to the window's
                                maximum as PyTorch does)
    b3_l{1,2}_var     [5, 10]   p (1-p) sum_i e_i^2
    b3_l2_effects     [3, 10, 968]  the e_i of conv layer 2 for the first 3 images only (all 5
                                would be 387 KB; layer 1's, 1.08 MB, are not stored)
    b4_l{1,2}_mean    [5, 10]   neurons, single crashes enumerated: p * sum_i d_i with
                                d_i = F(y with y_i = 0) - F(y), exactly
    b4_l{1,2}_var     [5, 10]   p (1-p) sum_i d_i^2
    syn_b3_l{1,2}_mean/var [5, 10]  synapses of conv layer l, same formulas with
                                e_s = -w_s dF_k/dw_s (autograd w.r.t. the kernel weights)
    syn_b4_l{1,2}_mean/var [5, 10]  same with d_s = F(w_s = 0) - F, exactly
    syn_b3_l1_effects [5, 10, 36]   e_s of conv layer 1's 36 weights, flat ONNX index s
    syn_b4_l1_effects [5, 10, 36]   d_s of the same
Prints the ratios of b3 and b4 to the Monte Carlo (std and mean) per layer, and the run time.

What the numbers show (p = 0.02): after conv layer 2 everything is linear (average pool, Linear),
so there b3 = b4 to rounding and both match the Monte Carlo (std ratio 0.99 to 1.01). Conv layer
1 feeds a max pool: crashing a window's maximum drops the pooled value to the runner-up, not to
0, so b3 (which follows the gradient to the maximum) overestimates the std about 4 to 11 times,
while b4 is exact per single crash but misses pairs of crashes in one window (std ratio 0.61 to
0.98, tending to 1 as p shrinks: median 0.98 at p = 0.005, 1.00 at p = 0.001).
"""
import copy
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from torch import nn

from fmnist_data import DATA, ROOT, read_idx

P = 0.02
MC_TRIALS = 50000
MC_BATCH = 5000
MC_IMAGES = 10
BOUND_IMAGES = 5
EFFECT_IMAGES = 3  # images whose per-neuron b3 effects of layer 2 are stored
TRAIN_SUBSET = 12800


def model_t():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(200, 10))


def activations(m, x):
    """The post-activation outputs of conv layers 1 and 2 (nfsim's neurons), before pooling."""
    y1 = m[1](m[0](x))
    y2 = m[4](m[3](m[2](y1)))
    return y1, y2


def logits_from(m, layer, y):
    """F from conv layer `layer`'s post-activation output y (before its pooling)."""
    if layer == 1:
        y = m[4](m[3](m[2](y)))
    return m[7](m[6](m[5](y)))


def mc_stats(delta):
    """Per output: mean, std (ddof 1), se of mean, se of std (delta method, 4th central moment)."""
    n = delta.shape[0]
    mean = delta.mean(0)
    s = delta.std(0, ddof=1)
    m4 = ((delta - mean) ** 4).mean(0)
    var_s2 = (m4 - s ** 4 * (n - 3) / (n - 1)) / n
    std_se = np.where(s > 0, np.sqrt(np.maximum(var_s2, 0.0)) / (2 * np.where(s > 0, s, 1.0)), 0.0)
    return mean, s, s / np.sqrt(n), std_se


def monte_carlo(m, images, layer, gen):
    out = {key: np.zeros((images.shape[0], 10)) for key in ("mean", "std", "mean_se", "std_se")}
    with torch.no_grad():
        for t in range(images.shape[0]):
            y = activations(m, images[t:t + 1])[layer - 1]
            clean = logits_from(m, layer, y)
            deltas = []
            for _ in range(MC_TRIALS // MC_BATCH):
                keep = (torch.rand((MC_BATCH,) + y.shape[1:], dtype=torch.float64, generator=gen) >= P).double()
                deltas.append((logits_from(m, layer, y * keep) - clean).numpy())
            stats = mc_stats(np.concatenate(deltas))
            for key, value in zip(("mean", "std", "mean_se", "std_se"), stats):
                out[key][t] = value
    return out


def neuron_b3_effects(m, images, layer):
    """e_i = -y_i dF_k/dy_i, (images, 10, neurons)."""
    y = activations(m, images)[layer - 1].detach().requires_grad_(True)
    f = logits_from(m, layer, y)
    grads = [torch.autograd.grad(f[:, k].sum(), y, retain_graph=True)[0] for k in range(10)]
    return torch.stack([-(y * g).flatten(1) for g in grads], 1).detach().numpy()


def neuron_b4_effects(m, images, layer):
    """d_i = F(y with y_i = 0) - F(y), (images, 10, neurons)."""
    out = []
    with torch.no_grad():
        for t in range(images.shape[0]):
            y = activations(m, images[t:t + 1])[layer - 1]
            n = y[0].numel()
            batch = y.flatten(1).repeat(n, 1)
            batch[torch.arange(n), torch.arange(n)] = 0.0
            faulty = logits_from(m, layer, batch.view((n,) + y.shape[1:]))
            out.append((faulty - logits_from(m, layer, y)).T.numpy())
    return np.stack(out)


def synapse_effects(m, images, layer):
    """(b3, b4) per synapse of conv layer `layer`, (images, 10, kernel weights), flat ONNX order."""
    conv = m[0] if layer == 1 else m[3]
    w = conv.weight
    b3 = np.zeros((images.shape[0], 10, w.numel()))
    for t in range(images.shape[0]):
        f = m(images[t:t + 1])[0]
        for k in range(10):
            g = torch.autograd.grad(f[k], w, retain_graph=True)[0]
            b3[t, k] = -(w * g).flatten().detach().numpy()
    b4 = np.zeros_like(b3)
    with torch.no_grad():
        clean = m(images)
        flat = w.view(-1)
        for s in range(w.numel()):
            saved = flat[s].item()
            flat[s] = 0.0
            b4[:, :, s] = (m(images) - clean).numpy()
            flat[s] = saved
    return b3, b4


def bound(effects):
    """p * sum e, p (1-p) sum e^2 over the last axis."""
    return P * effects.sum(-1), P * (1 - P) * (effects ** 2).sum(-1)


def main():
    start = time.time()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    train_x = torch.tensor(read_idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255.0
    train_y = torch.tensor(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_u8 = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")

    model = model_t()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(train_x.shape[0])[:TRAIN_SUBSET]
    for i in range(0, TRAIN_SUBSET, 128):
        idx = perm[i:i + 128]
        opt.zero_grad()
        loss_fn(model(train_x[idx]), train_y[idx]).backward()
        opt.step()
    model.eval()
    test_x = torch.tensor(test_u8, dtype=torch.float32).unsqueeze(1) / 255.0
    test_y = torch.tensor(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    with torch.no_grad():
        acc = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"model T: test accuracy {acc:.4f} after one pass over {TRAIN_SUBSET} training images")

    fixtures = os.path.join(ROOT, "tests", "fixtures")
    path = os.path.join(fixtures, "torch_cnn_small.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Conv", "Relu", "MaxPool", "Conv", "Tanh", "Constant", "Pad", "AveragePool", "Flatten", "Gemm"], ops
    pads = onnx.numpy_helper.to_array(next(n for n in proto.graph.node if n.op_type == "Constant").attribute[0].t)
    assert not pads.any(), pads  # the exporter's no-op Pad of count_include_pad
    print(f"{os.path.relpath(path, ROOT)}: {' '.join(ops)}  ({os.path.getsize(path)} bytes)")

    m = copy.deepcopy(model).double().eval()
    for param in m.parameters():
        param.requires_grad_(True)
    images = torch.tensor(test_u8[:MC_IMAGES], dtype=torch.float64).unsqueeze(1) / 255.0
    few = images[:BOUND_IMAGES]
    refs = {"mc_p": np.float64(P), "mc_trials": np.int64(MC_TRIALS)}
    with torch.no_grad():
        refs["clean_logits"] = m(images).numpy()

    gen = torch.Generator().manual_seed(12345)
    for layer in (1, 2):
        t0 = time.time()
        for key, value in monte_carlo(m, images, layer, gen).items():
            refs[f"mc_l{layer}_{key}"] = value
        print(f"Monte Carlo of conv layer {layer}: {MC_IMAGES} images x {MC_TRIALS} trials in {time.time() - t0:.1f} s")
        e = neuron_b3_effects(m, few, layer)
        refs[f"b3_l{layer}_mean"], refs[f"b3_l{layer}_var"] = bound(e)
        if layer == 2:
            refs["b3_l2_effects"] = e[:EFFECT_IMAGES]
        d = neuron_b4_effects(m, few, layer)
        refs[f"b4_l{layer}_mean"], refs[f"b4_l{layer}_var"] = bound(d)
        e_s, d_s = synapse_effects(m, few, layer)
        refs[f"syn_b3_l{layer}_mean"], refs[f"syn_b3_l{layer}_var"] = bound(e_s)
        refs[f"syn_b4_l{layer}_mean"], refs[f"syn_b4_l{layer}_var"] = bound(d_s)
        if layer == 1:
            refs["syn_b3_l1_effects"], refs["syn_b4_l1_effects"] = e_s, d_s

    out = os.path.join(fixtures, "torch_cnn_small_refs")
    os.makedirs(out, exist_ok=True)
    for name, value in refs.items():
        np.save(os.path.join(out, name + ".npy"), value)

    print(f"summary on the first {BOUND_IMAGES} images, p = {P} (median [min, max] over images x outputs):")
    def fmt(r):
        return f"{np.median(r):.3f} [{r.min():.3f}, {r.max():.3f}]"
    for layer in (1, 2):
        mc_std = refs[f"mc_l{layer}_std"][:BOUND_IMAGES]
        mc_mean = refs[f"mc_l{layer}_mean"][:BOUND_IMAGES]
        for name in ("b3", "b4"):
            std = np.sqrt(refs[f"{name}_l{layer}_var"])
            print(f"  neurons of conv layer {layer}: {name} std / MC std {fmt(std / mc_std)}; "
                  f"{name} mean / MC mean {fmt(refs[f'{name}_l{layer}_mean'] / mc_mean)}")
        z = (refs[f"b4_l{layer}_mean"] - mc_mean) / refs[f"mc_l{layer}_mean_se"][:BOUND_IMAGES]
        print(f"  conv layer {layer}: (b4 mean - MC mean) / MC se: max |z| {np.abs(z).max():.2f}; "
              f"MC std se / MC std median {np.median(refs[f'mc_l{layer}_std_se'] / refs[f'mc_l{layer}_std']):.4f}")
        r = np.sqrt(refs[f"syn_b3_l{layer}_var"] / refs[f"syn_b4_l{layer}_var"])
        print(f"  synapses of conv layer {layer}: b3 std / b4 std {fmt(r)}")
    print(f"wrote {os.path.relpath(out, ROOT)} ({os.path.getsize(out)} bytes) in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
