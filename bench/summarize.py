#!/usr/bin/python3
"""Turns the raw outputs of bench/compare.sh into bench/RESULTS.md: machine, date, commands,
medians and every ratio against its target."""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import statistics
import subprocess
import sys


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001 - machine details are best effort
        return "?"


def load(path):
    with open(path) as f:
        return json.load(f)


def gbench(path):
    """name -> median aggregate (real_time in the benchmark's unit, items_per_second)."""
    out = {}
    for b in load(path)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            out[b["run_name"]] = b
    return out


def seconds(value, unit):
    return value * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def agreement(nf_point, pt):
    """z-scores of nfsim's per input-output mean and std against the peer's, over their combined
    standard errors: (z_mean, z_std)."""
    z_mean, z_std = [], []
    for n, entry in enumerate(nf_point["inputs"]):
        m = entry["measured"]
        for k in range(len(m["mean"])):
            se_m = (m["ci95"]["mean"]["hi"][k] - m["ci95"]["mean"]["lo"][k]) / 2 / 1.959964
            se_s = (m["ci95"]["std"]["hi"][k] - m["ci95"]["std"]["lo"][k]) / 2 / 1.959964
            den_m = math.hypot(se_m, pt["se_mean"][n][k])
            den_s = math.hypot(se_s, pt["se_std"][n][k])
            if den_m > 0:
                z_mean.append((m["mean"][k] - pt["mean"][n][k]) / den_m)
            if den_s > 0:
                z_std.append((m["std"][k] - pt["std"][n][k]) / den_s)
    return z_mean, z_std


def beyond(zs, q):
    return sum(abs(z) > q for z in zs) / max(1, len(zs))


class Peer:
    """nfsim's runs `{R}/{nf}_{r}/report.json` against the PyTorch peer's `{R}/{pt}_{r}.json`:
    median trials per second of each, and the agreement of the first run of each."""

    def __init__(self, R, reps, nf, pt):
        self.nf_runs = [load(f"{R}/{nf}_{r}/report.json") for r in range(1, reps + 1)]
        self.pt_runs = [load(f"{R}/{pt}_{r}.json") for r in range(1, reps + 1)]
        self.nf_trials = self.nf_runs[0]["points"][0]["trials"]
        self.nf_tps = statistics.median(self.nf_trials / r["timing"]["points"][0]["monte_carlo_s"] for r in self.nf_runs)
        self.nf_threads = self.nf_runs[0]["timing"]["points"][0]["threads"]
        self.pt_tps = statistics.median(r["trials_per_second"] for r in self.pt_runs)
        self.ratio = self.nf_tps / self.pt_tps
        self.z_mean, self.z_std = agreement(self.nf_runs[0]["points"][0], self.pt_runs[0])
        self.agree = beyond(self.z_mean, 2.5758) <= 0.03 and beyond(self.z_std, 2.5758) <= 0.03


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--reps", type=int, required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    R = a.results
    fn = gbench(f"{R}/gbench_functional.json")
    chip = gbench(f"{R}/gbench_chip.json")
    rows = []  # (number, what, measured, target, ok)

    # 1. Peer.
    peer = Peer(R, a.reps, "peer_nfsim", "peer_torch")
    nf_runs, pt = peer.nf_runs, peer.pt_runs[0]
    nf_trials, nf_tps, nf_threads, pt_tps = peer.nf_trials, peer.nf_tps, peer.nf_threads, peer.pt_tps
    ratio1 = peer.ratio
    rows.append((1, "nfsim functional engine / PyTorch peer, trials per second", f"{ratio1:.1f}x", ">= 20x", ratio1 >= 20))
    # Agreement of the per-input, per-output mean and std (first run of each).
    nf_inputs = nf_runs[0]["points"][0]["inputs"]
    z_mean, z_std, agree = peer.z_mean, peer.z_std, peer.agree

    # 2. Dense path against plain Eigen batched forward.
    dense = fn["BM_FunctionalDense"]["items_per_second"]
    eigen = fn["BM_EigenBatchedForward/64"]["items_per_second"]
    ratio2 = dense / eigen
    rows.append((2, "dense Monte-Carlo path / plain Eigen batched forward, inferences per second", f"{ratio2:.2f}", ">= 0.7", ratio2 >= 0.7))

    # 3. Chip inference against one plain Eigen forward.
    # Both benchmarks process 256 inputs one by one per iteration: per-inference time from items/s.
    chip_t = 1.0 / chip["BM_ChipInference"]["items_per_second"]
    eig_t = 1.0 / chip["BM_EigenForwardOneByOne"]["items_per_second"]
    ratio3 = chip_t / eig_t
    rows.append((3, "chip-engine inference (TLM-2.0, 32 B/ns links with contention) / plain Eigen forward (784-512-256-10, 256x256 tiles), time", f"{ratio3:.2f}x", "<= 2.0x", ratio3 <= 2.0))

    # 4. Bounds against the Monte Carlo they replace (one thread each).
    bound_s = seconds(fn["BM_BoundsB3B4"]["real_time"], fn["BM_BoundsB3B4"]["time_unit"])  # per input
    inference_s = 1.0 / fn["BM_FunctionalFast"]["items_per_second"]
    needed = []
    for entry in nf_inputs:
        m = entry["measured"]
        for k in range(len(m["std"])):
            if m["std"][k] > 0:
                rel = (m["ci95"]["std"]["hi"][k] - m["ci95"]["std"]["lo"][k]) / 2 / m["std"][k]
                needed.append(nf_trials * (rel / 0.01) ** 2)
    needed_median = statistics.median(needed)
    needed_worst = max(needed)
    mc_s = needed_median * inference_s
    ratio4_median = mc_s / bound_s
    # Measured: runs with trials: auto that stop once every std's relative half-width is <= 1%.
    auto_runs = [load(f"{R}/auto_{r}/report.json") for r in range(1, a.reps + 1)]
    auto_s = statistics.median(r["timing"]["points"][0]["monte_carlo_s"] for r in auto_runs)
    auto_trials = auto_runs[0]["points"][0]["trials"]
    auto_reached = auto_runs[0]["points"][0]["stopping"]["reached"]
    auto_inputs = len(auto_runs[0]["points"][0]["inputs"])
    ratio4 = auto_s / (bound_s * auto_inputs)
    rows.append((4, "Monte Carlo until every std has a 1% relative half-width (trials: auto) / b3 + b4 at every faulty layer, "
                 "same inputs, one thread each", f"{ratio4:,.0f}x", ">= 100x", ratio4 >= 100 and auto_reached == "target"))

    # 5. MPI.
    t1 = statistics.median(load(f"{R}/mpi1_{r}/report.json")["timing"]["points"][0]["monte_carlo_s"] for r in range(1, a.reps + 1))
    t2 = statistics.median(load(f"{R}/mpi2_{r}/report.json")["timing"]["points"][0]["monte_carlo_s"] for r in range(1, a.reps + 1))
    ratio5 = t1 / t2
    rows.append((5, "mpirun -np 2 / one process (one thread each), trials per second", f"{ratio5:.2f}x", ">= 1.8x", ratio5 >= 1.8))
    same = True
    for r in range(1, a.reps + 1):
        x, y = load(f"{R}/mpi1_{r}/report.json"), load(f"{R}/mpi2_{r}/report.json")
        same &= x["points"][0]["inputs"] == y["points"][0]["inputs"]

    # 6. Memory.
    rss5 = load(f"{R}/rss_1e5/report.json")["timing"]["peak_rss_kb"]
    rss7 = load(f"{R}/rss_1e7/report.json")["timing"]["peak_rss_kb"]
    ratio6 = rss7 / rss5
    rows.append((6, "peak RSS at 10^7 trials / at 10^5 trials", f"{ratio6:.3f}", "<= 1.10", ratio6 <= 1.10))

    # 7. b3 + b4 for synapse crashes on layer 1 against the Monte Carlo until 1% (one thread each).
    syn_bound_s = seconds(fn["BM_BoundsSynapseB3B4"]["real_time"], fn["BM_BoundsSynapseB3B4"]["time_unit"])  # per input
    syn = load(f"{R}/synapse_auto/report.json")
    syn_point = syn["points"][0]
    syn_trials = syn_point["trials"]
    syn_reached = syn_point["stopping"]["reached"]
    syn_mc_s = syn["timing"]["points"][0]["monte_carlo_s"]
    syn_run_bounds_s = syn["timing"]["points"][0]["bounds_s"]
    syn_inputs = len(syn_point["inputs"])
    syn_worst = 0.0
    for entry in syn_point["inputs"]:
        m = entry["measured"]
        for k in range(len(m["std"])):
            if m["std"][k] > 0:
                syn_worst = max(syn_worst, (m["ci95"]["std"]["hi"][k] - m["ci95"]["std"]["lo"][k]) / 2 / m["std"][k])
    if syn_reached == "target":
        syn_target_s, syn_how = syn_mc_s, "measured"
    else:  # stopped at the cap: the half-width shrinks as 1/sqrt(trials)
        syn_target_s = syn_mc_s * max(1.0, (syn_worst / 0.01) ** 2)
        syn_how = f"extrapolated from {syn_trials:,} trials"
    ratio7 = syn_target_s / (syn_bound_s * syn_inputs)
    rows.append((7, "Monte Carlo until every std has a 1% relative half-width / b3 + b4, synapse crashes on layer 1 of the bundled MLP, "
                 f"same 100 inputs, one thread each ({syn_how})", f"{ratio7:,.0f}x", ">= 100x", ratio7 >= 100))

    # 8. bounds: [] spends (almost) nothing in bounds.
    none_runs = [load(f"{R}/synapse_none_{r}/report.json")["timing"]["points"][0] for r in range(1, a.reps + 1)]
    share8 = statistics.median(t["bounds_s"] / (t["bounds_s"] + t["monte_carlo_s"]) for t in none_runs)
    none_bounds = statistics.median(t["bounds_s"] for t in none_runs)
    none_mc = statistics.median(t["monte_carlo_s"] for t in none_runs)
    rows.append((8, "`bounds: []`: time in bounds / time in bounds + Monte Carlo (synapse campaign, 300 trials, one thread)",
                 f"{100 * share8:.3f}%", "< 1%", share8 < 0.01))

    # 9. The conv Monte Carlo against the PyTorch peer (the bundled CNN, dropout masks on both conv layers).
    cnn = Peer(R, a.reps, "peer_cnn_nfsim", "peer_cnn_torch")
    cpt_runs, cnf_trials, cnf_tps, cnf_threads, cpt_tps = cnn.pt_runs, cnn.nf_trials, cnn.nf_tps, cnn.nf_threads, cnn.pt_tps
    ratio9, cz_mean, cz_std, cagree = cnn.ratio, cnn.z_mean, cnn.z_std, cnn.agree
    rows.append((9, "nfsim functional engine / PyTorch peer, conv Monte Carlo (neuron crashes on both conv layers of the bundled CNN), "
                 "trials per second", f"{ratio9:.1f}x", ">= 10x", ratio9 >= 10 and cagree))

    # 10. The conv dense path against PyTorch's own CPU inference, one thread each.
    cdense = fn["BM_ConvFunctionalDense"]["items_per_second"]
    cforward = fn["BM_ConvForward"]["items_per_second"]
    tfw_runs = [load(f"{R}/torch_forward_{r}.json") for r in range(1, a.reps + 1)]
    tfw = statistics.median(r["inferences_per_second"] for r in tfw_runs)
    ratio10 = cdense / tfw
    rows.append((10, "conv dense Monte-Carlo path / PyTorch CPU inference of the same CNN (batch of 100, one thread each), "
                  "inferences per second", f"{ratio10:.2f}", ">= 0.5", ratio10 >= 0.5))

    # 11. The chip engine with differential simulation against the functional engine, one thread each.
    def tps(path):
        rep = load(path)
        return rep["points"][0]["trials"] / rep["timing"]["points"][0]["monte_carlo_s"], rep
    chip_runs = [tps(f"{R}/chip_diff_{r}/report.json") for r in range(1, a.reps + 1)]
    func_runs = [tps(f"{R}/chip_func_{r}/report.json") for r in range(1, a.reps + 1)]
    chip_tps = statistics.median(t for t, _ in chip_runs)
    func_tps = statistics.median(t for t, _ in func_runs)
    full_tps, full_rep = tps(f"{R}/chip_full/report.json")
    chip_sim = chip_runs[0][1]["points"][0]["chip"]["simulation"]
    ratio11 = chip_tps / func_tps
    rows.append((11, "chip engine with differential simulation / functional engine, trials per second (peer campaign on the "
                  "4x4 mesh chip, one thread each)", f"{ratio11:.3f}x", ">= 0.25x", ratio11 >= 0.25 and chip_sim["mode"] == "differential"))

    # 12-13. Time to a 1% relative half-width on every std: control variate against plain Monte Carlo.
    def mc(path):
        rep = load(path)
        pt_ = rep["points"][0]
        return rep["timing"]["points"][0]["monte_carlo_s"], pt_["trials"], pt_["stopping"]["reached"], pt_["estimator"]
    cv01 = [mc(f"{R}/cv_p01_{r}/report.json") for r in range(1, a.reps + 1)]
    cv001 = [mc(f"{R}/cv_p001_{r}/report.json") for r in range(1, a.reps + 1)]
    plain001 = [mc(f"{R}/plain_p001_{r}/report.json") for r in range(1, a.reps + 1)]
    cv01_s = statistics.median(t for t, *_ in cv01)
    cv001_s = statistics.median(t for t, *_ in cv001)
    # Plain at p = 0.001, extrapolated: time x (worst relative half-width / 0.01)^2.
    plain001_s = statistics.median(t * max(1.0, (e["rel_half_width_std"] / 0.01) ** 2) for t, _, _, e in plain001)
    ratio12 = plain001_s / cv001_s
    ratio13 = auto_s / cv01_s
    cv_ok = all(reached == "target" and e["name"] == "control_variate" for _, _, reached, e in cv01 + cv001)
    rows.append((12, "time to a 1% relative half-width on every std, plain Monte Carlo / control variate, peer campaign at "
                  "p = 0.001, one thread each (plain extrapolated from 20,000 trials)", f"{ratio12:,.0f}x", ">= 10x", ratio12 >= 10 and cv_ok))
    rows.append((13, "the same at p = 0.01 (both measured to the target)", f"{ratio13:,.1f}x", ">= 3x",
                 ratio13 >= 3 and cv_ok and auto_reached == "target"))

    # 14. The spiking Monte Carlo against the PyTorch time-stepped peer.
    snn = Peer(R, a.reps, "peer_snn_nfsim", "peer_snn_torch")
    rows.append((14, "nfsim spiking engine / PyTorch time-stepped peer, spiking Monte Carlo (the converted MLP, T = 32, neuron "
                  "crashes on both hidden layers), trials per second", f"{snn.ratio:.1f}x", ">= 10x", snn.ratio >= 10 and snn.agree))

    commit = sh(f"git -C {os.path.dirname(os.path.abspath(__file__))} rev-parse --short HEAD")
    blas = sh("update-alternatives --query libblas.so.3-x86_64-linux-gnu | sed -n 's/^Value: //p'") or "?"
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'")
    mem = sh("free -g | awk '/Mem:/ {print $2}'")
    lines = []
    w = lines.append
    w("# nfsim performance results")
    w("")
    w("Written by `make bench` (bench/compare.sh, bench/summarize.py). Every ratio below was measured in")
    w("one run on one machine; absolute times on these shared machines are not stable, ratios are.")
    w("No test asserts a wall-clock time: this file is the record.")
    w("")
    w("## Machine")
    w("")
    w(f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} (commit {commit})")
    w(f"- CPU: {cpu}, {os.cpu_count()} cores, {mem} GiB; {platform.platform()}")
    w(f"- compiler: {sh('c++ --version | head -1')}, CMake build type Release (portable flags, no -march=native)")
    w(f"- nfsim's {sh(f'{a.build}/apps/nfsim --version | sed -n 2p') or 'conv GEMM: ?'}")
    w(f"- peer: PyTorch {pt['torch']} ({pt['dtype']}, {pt['threads']} threads), BLAS {blas}")
    w(f"- repetitions: {a.reps} per whole-program measurement, 5 per Google Benchmark; medians reported")
    w("")
    w("## Ratios")
    w("")
    w("| # | ratio | measured | target | |")
    w("|---|---|---|---|---|")
    for n, what, measured, target, ok in rows:
        w(f"| {n} | {what} | {measured} | {target} | {'met' if ok else 'NOT MET'} |")
    w("")
    w("## Details")
    w("")
    w(f"1. **Peer.** The paper's experiment on the bundled Fashion-MNIST MLP (784-256-128-10), neuron crashes on both")
    w(f"   hidden layers, p = 0.01, redrawn per inference, 100 test images. PyTorch ({PEER_DOC}): "
      f"{pt_tps:,.0f} trials/s (median, {pt['trials']} trials per run). nfsim (`nfsim run bench/campaigns/peer.yaml`, "
      f"{nf_threads} threads, {nf_trials} trials): {nf_tps:,.0f} trials/s. A trial is one pass over the 100 inputs.")
    w(f"   Agreement (first run of each, {len(z_mean)} input-output pairs): |z| of the mean difference over the combined")
    w(f"   standard error: max {max(map(abs, z_mean)):.2f}, beyond 2.576 (99%): {100 * beyond(z_mean, 2.5758):.1f}% (1% expected);")
    w(f"   of the std difference: max {max(map(abs, z_std)):.2f}, beyond 2.576: {100 * beyond(z_std, 2.5758):.1f}%. "
      f"**{'Agree' if agree else 'DISAGREE'}** within the confidence intervals.")
    w(f"2. **Dense path.** `BM_FunctionalDense` (fast path off, 64-column GEMMs with fault overrides) {dense:,.0f} inferences/s")
    w(f"   against `BM_EigenBatchedForward/64` (the same shapes, plain Eigen, no faults) {eigen:,.0f} inferences/s.")
    w(f"3. **Chip.** `BM_ChipInference` {chip_t * 1e6:,.1f} us per inference (SystemC chip engine, 4x4 mesh, ideal crossbars)")
    w(f"   against `BM_EigenForwardOneByOne` {eig_t * 1e6:,.1f} us (Network::forward of one input).")
    w(f"4. **Bounds.** b3 + b4 for crashes at both hidden layers: {bound_s * 1e6:,.0f} us per input (`BM_BoundsB3B4`),")
    w(f"   {bound_s * auto_inputs * 1e3:,.1f} ms for the {auto_inputs} inputs. The Monte Carlo they replace, measured:")
    w(f"   `nfsim run bench/campaigns/peer.yaml --trials auto` with `stopping.rel_half_width=0.01`, `--threads 1`, ran")
    w(f"   {auto_trials:,} trials (stopped: {auto_reached}) in {auto_s:,.2f} s (median of {a.reps}).")
    w(f"   A looser reading, for the median output alone: its 95% half-width shrinks as 1/sqrt(trials), so from the peer")
    w(f"   run 1% needs {needed_median:,.0f} trials (the worst output {needed_worst:,.0f}); at {inference_s * 1e6:.2f} us per")
    w(f"   inference (`BM_FunctionalFast`, one thread) that is {mc_s * 1e3:,.1f} ms per input, {ratio4_median:,.0f}x the bounds.")
    mpi_trials = load(f"{R}/mpi1_1/report.json")["points"][0]["trials"]
    w(f"5. **MPI.** {mpi_trials:,} trials of the peer campaign, `--threads 1`: one process {t1:.3f} s, `mpirun -np 2` {t2:.3f} s")
    w(f"   (Monte-Carlo time, medians). Reports bit-identical: {'yes' if same else 'NO'}.")
    w(f"6. **Memory.** `bench/campaigns/memory.yaml` (one input): peak RSS {rss5:,} kB at 10^5 trials, {rss7:,} kB at 10^7.")
    w(f"7. **Bounds for synapse crashes.** `bench/campaigns/synapse.yaml`: synapse crashes on layer 1 of the bundled MLP")
    w(f"   (200,704 synapses), p = 0.01, 100 test images. b3 + b4: {syn_bound_s * 1e3:,.2f} ms per input (`BM_BoundsSynapseB3B4`),")
    w(f"   {syn_bound_s * syn_inputs:,.3f} s for the {syn_inputs} inputs (in the run itself, with the profile and variance_by_term:")
    w(f"   bounds_s = {syn_run_bounds_s:,.3f} s). The Monte Carlo, `--trials auto --threads 1` with `stopping.rel_half_width=0.01`:")
    w(f"   {syn_trials:,} trials (stopped: {syn_reached}) in {syn_mc_s:,.1f} s, worst relative half-width of a std {syn_worst:.4f};")
    w(f"   until 1%: {syn_target_s:,.0f} s ({syn_how}{'' if syn_reached == 'target' else ': time x (half-width / 0.01)^2'}).")
    w(f"8. **`bounds: []`.** The same campaign with `--set bounds=[]`, 300 trials, `--threads 1`: bounds_s {none_bounds:.4f} s")
    w(f"   against {none_mc:,.1f} s of Monte Carlo (medians of {a.reps}): nothing but the measured statistics' summary.")
    w(f"9. **Conv peer.** Neuron crashes on both conv layers of the bundled CNN (their activations, before the")
    w(f"   pooling), p = 0.01, redrawn per inference, 100 test images. PyTorch (the same script with the CNN: conv2d,")
    w(f"   max_pool2d, dropout masks times (1 - p) after each hidden weighted layer's activation, {cpt_runs[0]['threads']} threads,")
    w(f"   {cpt_runs[0]['dtype']}): {cpt_tps:,.1f} trials/s (median, {cpt_runs[0]['trials']} trials per run). nfsim")
    w(f"   (`nfsim run bench/campaigns/peer_cnn.yaml`, {cnf_threads} threads, {cnf_trials} trials): {cnf_tps:,.0f} trials/s.")
    w(f"   Agreement ({len(cz_mean)} input-output pairs): mean |z| beyond 2.576: {100 * beyond(cz_mean, 2.5758):.1f}%"
      f" (max {max(map(abs, cz_mean)):.2f}); std: {100 * beyond(cz_std, 2.5758):.1f}% (max {max(map(abs, cz_std)):.2f}). "
      f"**{'Agree' if cagree else 'DISAGREE'}** within the confidence intervals.")
    w(f"10. **Conv dense path.** `BM_ConvFunctionalDense` (nfsim's dense Monte-Carlo path on the CNN, fast path off, im2col +")
    w(f"   GEMM by OpenBLAS in double precision) {cdense:,.0f} inferences/s; `BM_ConvForward` (Network::forward_batch, no")
    w(f"   faults) {cforward:,.0f} inferences/s; PyTorch's own inference (`peer_torch.py --forward-only`, {tfw_runs[0]['threads']}"
      f" thread, {tfw_runs[0]['dtype']}, batch of 100) {tfw:,.0f} inferences/s (median of {a.reps}).")
    w(f"11. **Chip engine, differential.** `bench/campaigns/peer_chip.yaml` (the peer campaign on `examples/chips/mesh4x4.yaml`),")
    w(f"   `--threads 1`: the chip engine {chip_tps:,.0f} trials/s ({chip_runs[0][1]['points'][0]['trials']:,} trials, "
      f"{chip_sim['differential_inferences']:,} inferences differential, {chip_sim['full_inferences']:,} in full), the functional engine")
    w(f"   {func_tps:,.0f} trials/s ({func_runs[0][1]['points'][0]['trials']:,} trials); medians of {a.reps}. The same chip simulated in full")
    w(f"   (`chip_simulation: full`, {full_rep['points'][0]['trials']} trials): {full_tps:,.1f} trials/s, "
      f"{chip_tps / full_tps:,.0f}x slower than differential.")
    w(f"12. **Control variate, p = 0.001.** `bench/campaigns/peer.yaml` at p = 0.001 with `estimator: control_variate`,")
    w(f"   `--trials auto`, `stopping.rel_half_width=0.01`, `--threads 1`: {cv001[0][1]:,} trials (stopped: {cv001[0][2]}) in "
      f"{cv001_s:,.2f} s (median of {a.reps}; the time includes building the control variate).")
    w(f"   Plain Monte Carlo, 20,000 trials: {plain001[0][0]:,.2f} s, worst relative half-width of a std "
      f"{plain001[0][3]['rel_half_width_std']:.4f}; until 1%: {plain001_s:,.0f} s (extrapolated: time x (half-width / 0.01)^2,")
    w(f"   median of {a.reps}). On the control variate's own trials the plain interval was {cv001[0][3]['plain_rel_half_width_std']:.4f} "
      f"against its {cv001[0][3]['rel_half_width_std']:.4f}:")
    w(f"   {cv001[0][3]['plain_trials_for_same_width']:,.0f} plain trials for the same width (the report's `estimator.trials_saved`: "
      f"{cv001[0][3]['trials_saved']:,.0f}).")
    w(f"13. **Control variate, p = 0.01.** The same at p = 0.01: {cv01[0][1]:,} trials (stopped: {cv01[0][2]}) in {cv01_s:,.2f} s, "
      f"against row 4's plain run, {auto_trials:,} trials in {auto_s:,.2f} s")
    w(f"   (medians of {a.reps}). Plain interval on the control variate's trials: {cv01[0][3]['plain_rel_half_width_std']:.4f} against "
      f"{cv01[0][3]['rel_half_width_std']:.4f}.")
    spt = snn.pt_runs[0]
    w(f"14. **Spiking peer.** `bench/campaigns/peer_snn.yaml`: the bundled MLP converted to integrate-and-fire arrays (normalised")
    w(f"   on the 100 test images, percentile 99.9), T = 32, regular input trains, membrane readout; dead neurons on both hidden")
    w(f"   layers, p = 0.01, redrawn per inference. PyTorch (`bench/peer_snn_torch.py`: its own conversion, {spt['batch_trials']} trials")
    w(f"   x 100 inputs per matrix product, {spt['threads']} threads, {spt['dtype']}): {snn.pt_tps:,.1f} trials/s (median, {spt['trials']}")
    w(f"   trials per run). nfsim (`nfsim run bench/campaigns/peer_snn.yaml`, {snn.nf_threads} threads, {snn.nf_trials} trials):")
    w(f"   {snn.nf_tps:,.0f} trials/s. Agreement ({len(snn.z_mean)} input-output pairs): mean |z| beyond 2.576: "
      f"{100 * beyond(snn.z_mean, 2.5758):.1f}% (max {max(map(abs, snn.z_mean)):.2f}); std: {100 * beyond(snn.z_std, 2.5758):.1f}% "
      f"(max {max(map(abs, snn.z_std)):.2f}). **{'Agree' if snn.agree else 'DISAGREE'}** within the confidence intervals.")
    w("")
    w("## Hot parts (Google Benchmark medians)")
    w("")
    w("| benchmark | time | items/s |")
    w("|---|---|---|")
    for group in (fn, chip):
        for name, b in group.items():
            w(f"| {name} | {b['real_time']:,.2f} {b['time_unit']} | {b.get('items_per_second', 0):,.0f} |")
    w("")
    w("## Commands")
    w("")
    w("```")
    w("make bench                      # = make build, scripts/install-deps.sh --python, bench/compare.sh build")
    w("build/bench/nfsim_bench_functional --benchmark_repetitions=5")
    w("build/bench/nfsim_bench_chip --benchmark_repetitions=5")
    w("build/apps/nfsim run bench/campaigns/peer.yaml --out ...            # x reps, interleaved with:")
    w(f"/usr/bin/python3 bench/peer_torch.py --model examples/models/fmnist_mlp.onnx --images ... --trials {pt['trials']} --out ...")
    w("build/apps/nfsim run bench/campaigns/peer.yaml --trials auto --threads 1 --set stopping.rel_half_width=0.01 \\")
    w("    --set stopping.min_trials=1000 --set stopping.max_trials=10000000 --out ...")
    w("build/apps/nfsim run bench/campaigns/peer.yaml --trials auto --threads 1 --set estimator=control_variate \\")
    w("    --set stopping.rel_half_width=0.01 --set stopping.min_trials=1000 --set stopping.max_trials=10000000 \\")
    w("    [--set 'faults[0].probability=0.001'] --out ...   # x reps, interleaved with:")
    w("build/apps/nfsim run bench/campaigns/peer.yaml --trials 20000 --threads 1 --set 'faults[0].probability=0.001' --out ...")
    w("build/apps/nfsim run bench/campaigns/peer.yaml --trials 300000 --threads 1 --out ...")
    w("mpirun -np 2 build/apps/nfsim run bench/campaigns/peer.yaml --trials 300000 --threads 1 --out ...")
    w("build/apps/nfsim run bench/campaigns/memory.yaml --trials 100000 | 10000000 --out ...")
    w("build/apps/nfsim run bench/campaigns/synapse.yaml --trials auto --threads 1 --set stopping.rel_half_width=0.01 \\")
    w("    --set stopping.min_trials=1000 --set stopping.max_trials=$NFSIM_BENCH_SYNAPSE_MAX_TRIALS --out ...   # default 1000")
    w("build/apps/nfsim run bench/campaigns/synapse.yaml --threads 1 --trials 300 --set 'bounds=[]' --out ...   # x reps")
    w("build/apps/nfsim run bench/campaigns/peer_chip.yaml --threads 1 --out ...   # x reps, interleaved with:")
    w("build/apps/nfsim run bench/campaigns/peer_chip.yaml --threads 1 --engine functional --trials 20000 --out ...")
    w("build/apps/nfsim run bench/campaigns/peer_chip.yaml --threads 1 --trials 200 --set chip_simulation=full --out ...")
    w("build/apps/nfsim run bench/campaigns/peer_cnn.yaml --out ...        # x reps, interleaved with:")
    w(f"/usr/bin/python3 bench/peer_torch.py --model examples/models/fmnist_cnn.onnx --images ... --trials {cpt_runs[0]['trials']} --out ...")
    w("/usr/bin/python3 bench/peer_torch.py --model examples/models/fmnist_cnn.onnx --images ... --threads 1 --forward-only 200 --out ...")
    w("build/apps/nfsim run bench/campaigns/peer_snn.yaml --out ...        # x reps, interleaved with:")
    w(f"/usr/bin/python3 bench/peer_snn_torch.py --model examples/models/fmnist_mlp.onnx --images ... --time-steps 32 --trials {spt['trials']} --out ...")
    w("```")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(f"{n}. {what}: {m} (target {t}) {'met' if ok else 'NOT MET'}" for n, what, m, t, ok in rows))
    if not agree or not cagree or not snn.agree:
        print("bench: nfsim and the PyTorch peer disagree beyond their confidence intervals", file=sys.stderr)


PEER_DOC = "bench/peer_torch.py: a forward pass over the inputs per trial, dropout masks times (1 - p)"

if __name__ == "__main__":
    main()
