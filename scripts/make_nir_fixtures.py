#!/usr/bin/python3
"""NIR fixtures for nfsim's NIR import (models/nir_io.h, docs/nir.md), with an independent reference.

Run with Debian's interpreter (python3-h5py, python3-numpy):
    /usr/bin/python3 scripts/make_nir_fixtures.py

It writes small NIR graphs in the HDF5 layout of the NIR reference implementation
(nir/serialization.py: a string dataset `version`, a group `node` with `type` = "NIRGraph", a group
`nodes` holding one group per node (`type` plus the node's parameters as datasets) and `edges`, an
N x 2 array of variable-length strings), written here with h5py directly (no `nir` package), and
the outputs of each graph on fixed inputs, computed by a time-stepped simulation of the NIR
equations written here from their definitions with dense numpy products: forward Euler with step dt,
  LIF:  v <- v + dt/tau * ((v_leak - v) + r I)
  IF:   v <- v + dt * r I
a spike where v > v_threshold (NIR's strict comparison; nfsim spikes at >=, the same unless v lands
on the threshold exactly), then v <- v_reset (0). SumPool2d sums its window, Flatten reshapes, Scale
multiplies. Input x becomes the regular spike train of rate clamp(x, 0, 1): a spike at step t
iff floor((t + 1) x) > floor(t x). Within a step every node reads its predecessor's output of the
same step (no synaptic delay). The output is the time mean over T steps of what reaches Output:
spike counts / T after a neuron node (nfsim's `readout: rate`), the last linear node's output
summed / T when it feeds Output directly (`readout: membrane`). None of nfsim's code is used.

Weights are float32 (what exporters write); the reference widens them to float64 as nfsim does,
so the comparison in tests/unit/test_nir.cpp is exact up to rounding of the two arrangements.

Outputs (small, committed) in tests/fixtures/nir/:
  <case>.nir, <case>_inputs.npy (inputs as rows), <case>_expected.npy (outputs as rows),
  cases.txt (one line per case: name, dt, T),
  bad_*.nir: a missing dataset, a wrong weight shape, an unsupported node type, a graph that is
  not a chain, a nonzero v_reset, a per-neuron parameter of the wrong size, two linear nodes
  without a neuron node between them (tests/unit/test_nir.cpp checks the messages).
"""
import os

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "nir")
NIR_VERSION = "1.0.6"  # the version string the fixtures claim; nfsim does not read it


# --- writing the NIR HDF5 layout -----------------------------------------------------------------

def write_graph(path, nodes, edges):
    """nodes: {name: {"type": str, param: np.ndarray | int | str}}; edges: [(src, dst)]."""
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data=NIR_VERSION, dtype=h5py.string_dtype())
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        ng = g.create_group("nodes")
        for name, params in nodes.items():
            n = ng.create_group(name)
            for k, v in params.items():
                if isinstance(v, str):
                    n.create_dataset(k, data=v, dtype=h5py.string_dtype())
                elif isinstance(v, np.ndarray) and v.ndim > 0:  # as nir.write (0-d: no chunks, no filter)
                    n.create_dataset(k, data=v, dtype=v.dtype, compression="gzip")
                else:
                    n.create_dataset(k, data=v)
        g.create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())


def chain_edges(names):
    return [(a, b) for a, b in zip(names[:-1], names[1:])]


# --- the reference simulation --------------------------------------------------------------------

def regular_spikes(x, T):
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    t = np.arange(T, dtype=np.float64)[:, None]
    return (np.floor((t + 1.0) * x) > np.floor(t * x)).astype(np.float64)  # T x n


def conv2d(u, w, b, stride, pad):
    """u: C x H x W, w: O x C x kh x kw (one group, no dilation), symmetric padding."""
    C, H, W = u.shape
    O, _, kh, kw = w.shape
    up = np.zeros((C, H + 2 * pad[0], W + 2 * pad[1]))
    up[:, pad[0]:pad[0] + H, pad[1]:pad[1] + W] = u
    oh = (H + 2 * pad[0] - kh) // stride[0] + 1
    ow = (W + 2 * pad[1] - kw) // stride[1] + 1
    z = np.zeros((O, oh, ow))
    for y in range(oh):
        for x in range(ow):
            patch = up[:, y * stride[0]:y * stride[0] + kh, x * stride[1]:x * stride[1] + kw]
            z[:, y, x] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2])) + b
    return z


def sum_pool(u, k, s):
    C, H, W = u.shape
    oh, ow = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1
    z = np.zeros((C, oh, ow))
    for y in range(oh):
        for x in range(ow):
            z[:, y, x] = u[:, y * s[0]:y * s[0] + k[0], x * s[1]:x * s[1] + k[1]].sum(axis=(1, 2))
    return z


def simulate(nodes, order, x, dt, T):
    """Runs the chain `order` of `nodes` on input x for T steps; returns the time-mean output."""
    f64 = lambda a: np.asarray(a, dtype=np.float64)
    state = {n: None for n in order}
    spikes = regular_spikes(x, T)
    acc = None
    for t in range(T):
        u = spikes[t].reshape(tuple(nodes[order[0]]["shape"]))
        for name in order[1:]:
            p = nodes[name]
            kind = p["type"]
            if kind == "Affine":
                u = f64(p["weight"]) @ u.reshape(-1) + f64(p["bias"])
            elif kind == "Linear":
                u = f64(p["weight"]) @ u.reshape(-1)
            elif kind == "Conv2d":
                u = conv2d(u.reshape(f64(p["weight"]).shape[1], *p["input_shape"]), f64(p["weight"]), f64(p["bias"]),
                           p["stride"], p["padding"])
            elif kind == "Scale":
                u = u * f64(p["scale"]).reshape(u.shape)
            elif kind == "Threshold":
                u = (u > f64(p["threshold"])).astype(np.float64)
            elif kind in ("LIF", "IF"):
                i = u.reshape(f64(p["r"]).shape)
                v = state[name] if state[name] is not None else np.zeros_like(i)
                if kind == "LIF":
                    tau = f64(p["tau"])
                    v = v + dt / tau * ((f64(p["v_leak"]) - v) + f64(p["r"]) * i)
                else:
                    v = v + dt * f64(p["r"]) * i
                z = v > f64(p["v_threshold"])
                v = np.where(z, f64(p["v_reset"]), v)
                state[name] = v
                u = z.astype(np.float64)
            elif kind == "SumPool2d":
                u = sum_pool(u, p["kernel_size"], p["stride"])
            elif kind == "Flatten":
                u = u.reshape(-1)
            elif kind == "Output":
                pass
            else:
                raise ValueError(kind)
        acc = u.reshape(-1).copy() if acc is None else acc + u.reshape(-1)
    return acc / T


# --- the cases -----------------------------------------------------------------------------------

def mlp_case(rng):
    n0, n1, n2 = 16, 12, 5
    nodes = {
        "input": {"type": "Input", "shape": np.array([n0], dtype=np.int64)},
        "fc1": {"type": "Affine", "weight": rng.uniform(-0.6, 1.0, (n1, n0)).astype(np.float32),
                "bias": rng.uniform(-0.2, 0.3, n1).astype(np.float32)},
        "lif1": {"type": "LIF",  # per-neuron parameters
                 "tau": rng.uniform(0.004, 0.02, n1).astype(np.float32),
                 "r": rng.uniform(0.8, 1.5, n1).astype(np.float32),
                 "v_leak": rng.uniform(-0.1, 0.2, n1).astype(np.float32),
                 "v_threshold": rng.uniform(0.3, 0.8, n1).astype(np.float32),
                 "v_reset": np.zeros(n1, dtype=np.float32)},
        "fc2": {"type": "Affine", "weight": rng.uniform(-0.5, 1.0, (n2, n1)).astype(np.float32),
                "bias": rng.uniform(0.0, 0.2, n2).astype(np.float32)},
        "scale": {"type": "Scale", "scale": rng.uniform(0.5, 2.0, n2).astype(np.float32)},
        "lif2": {"type": "LIF",  # one value, repeated per neuron, as exporters write it
                 "tau": np.full(n2, 0.01, dtype=np.float32), "r": np.full(n2, 2.0, dtype=np.float32),
                 "v_leak": np.zeros(n2, dtype=np.float32), "v_threshold": np.full(n2, 0.5, dtype=np.float32),
                 "v_reset": np.zeros(n2, dtype=np.float32)},
        "output": {"type": "Output", "shape": np.array([n2], dtype=np.int64)},
    }
    order = ["input", "fc1", "lif1", "fc2", "scale", "lif2", "output"]
    return nodes, order, rng.uniform(0.0, 1.0, (6, n0)), 0.001, 40


def conv_case(rng):
    C, K = 4, 3
    nodes = {
        "input": {"type": "Input", "shape": np.array([1, 6, 6], dtype=np.int64)},
        "conv": {"type": "Conv2d", "input_shape": np.array([6, 6], dtype=np.int64),
                 "weight": rng.uniform(-0.4, 0.8, (C, 1, 3, 3)).astype(np.float32),
                 "stride": np.array([1, 1], dtype=np.int64), "padding": np.array([1, 1], dtype=np.int64),
                 "dilation": np.array([1, 1], dtype=np.int64), "groups": 1,
                 "bias": rng.uniform(-0.1, 0.2, C).astype(np.float32)},
        "if1": {"type": "IF",  # r per channel (a convolution shares weights), thresholds per neuron
                "r": np.repeat(rng.uniform(500.0, 900.0, C), 36).reshape(C, 6, 6).astype(np.float32),
                "v_threshold": rng.uniform(0.6, 1.2, (C, 6, 6)).astype(np.float32),
                "v_reset": np.zeros((C, 6, 6), dtype=np.float32)},
        "pool": {"type": "SumPool2d", "kernel_size": np.array([2, 2], dtype=np.int64),
                 "stride": np.array([2, 2], dtype=np.int64), "padding": np.array([0, 0], dtype=np.int64)},
        "flat": {"type": "Flatten", "start_dim": 0, "end_dim": -1, "input_type": np.array([C, 3, 3], dtype=np.int64)},
        "fc": {"type": "Affine", "weight": rng.uniform(-0.5, 0.5, (K, C * 9)).astype(np.float32),
               "bias": rng.uniform(-0.1, 0.1, K).astype(np.float32)},
        "output": {"type": "Output", "shape": np.array([K], dtype=np.int64)},
    }
    order = ["input", "conv", "if1", "pool", "flat", "fc", "output"]
    return nodes, order, rng.uniform(0.0, 1.0, (5, 36)), 0.001, 30


def threshold_case(rng):
    """Scale on the input spikes, Linear (no bias), memoryless Threshold neurons, membrane readout
    through a Scale after the last Affine."""
    n0, n1, n2 = 10, 8, 4
    nodes = {
        "input": {"type": "Input", "shape": np.array([n0], dtype=np.int64)},
        "in_scale": {"type": "Scale", "scale": rng.uniform(0.5, 1.5, n0).astype(np.float32)},
        "lin": {"type": "Linear", "weight": rng.uniform(-0.5, 1.0, (n1, n0)).astype(np.float32)},
        "thr": {"type": "Threshold", "threshold": rng.uniform(0.2, 1.0, n1).astype(np.float32)},
        "fc": {"type": "Affine", "weight": rng.uniform(-1.0, 1.0, (n2, n1)).astype(np.float32),
               "bias": rng.uniform(-0.1, 0.1, n2).astype(np.float32)},
        "out_scale": {"type": "Scale", "scale": np.float32(0.7) * np.ones(n2, dtype=np.float32)},
        "output": {"type": "Output", "shape": np.array([n2], dtype=np.int64)},
    }
    order = ["input", "in_scale", "lin", "thr", "fc", "out_scale", "output"]
    return nodes, order, rng.uniform(0.0, 1.0, (6, n0)), 0.001, 25


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261205)
    lines = []
    cases = {"mlp_lif": mlp_case(rng), "conv_if": conv_case(rng), "threshold_scale": threshold_case(rng)}
    for name, (nodes, order, inputs, dt, T) in cases.items():
        write_graph(os.path.join(OUT, name + ".nir"), nodes, chain_edges(order))
        expected = np.stack([simulate(nodes, order, x, dt, T) for x in inputs])
        np.save(os.path.join(OUT, name + "_inputs.npy"), inputs.astype(np.float64))
        np.save(os.path.join(OUT, name + "_expected.npy"), expected)
        lines.append(f"{name} {dt!r} {T}")
        print(name, "expected outputs:\n", np.array2string(expected, precision=4))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    # Bad files, each derived from the MLP.
    nodes, order, _, _, _ = cases["mlp_lif"]

    def variant(fname, change, edges=None):
        bad = {k: dict(v) for k, v in nodes.items()}
        change(bad)
        write_graph(os.path.join(OUT, fname), bad, edges if edges is not None else chain_edges(order))

    variant("bad_missing_dataset.nir", lambda b: b["lif1"].pop("v_threshold"))
    variant("bad_weight_shape.nir", lambda b: b["fc2"].update(weight=np.zeros((5, 11), dtype=np.float32)))
    variant("bad_unsupported_node.nir", lambda b: b.update(lif2={
        "type": "CubaLIF", "tau_mem": np.full(5, 0.01), "tau_syn": np.full(5, 0.005), "r": np.ones(5),
        "v_leak": np.zeros(5), "v_threshold": np.ones(5), "v_reset": np.zeros(5), "w_in": np.ones(5)}))
    # lif1 feeds both fc2 and a second path to the output: not a chain.
    variant("bad_not_chain.nir", lambda b: None, chain_edges(order) + [("lif1", "output")])
    # Beyond the four kinds above: what nfsim's neurons cannot represent, and a broken mapping.
    variant("bad_v_reset.nir", lambda b: b["lif1"].update(v_reset=np.array([0, 0, 0.25] + [0] * 9, dtype=np.float32)))
    variant("bad_param_size.nir", lambda b: b["lif2"].update(tau=np.full(3, 0.01, dtype=np.float32)))
    no_lif1 = [n for n in order if n != "lif1"]
    variant("bad_no_neuron.nir", lambda b: b.pop("lif1"), chain_edges(no_lif1))


if __name__ == "__main__":
    main()
