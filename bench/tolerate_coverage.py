#!/usr/bin/env python3
"""How often does `nfsim tolerate`'s interval hold the true rate? (docs/tolerate.md, "Measured")

The reference: the rate at which the accuracy drop equals epsilon, from long `nfsim run`s on a grid
of rates (`--ref-trials` trials at each, one seed the searches never use, so the grid shares its
random numbers), the drop fitted as a line in log rate around the crossing. Then `nfsim
tolerate` runs with seeds 1..K and each interval is checked against the reference.

  /usr/bin/python3 bench/tolerate_coverage.py --nfsim build/apps/nfsim \
      --campaign examples/campaigns/fmnist_functional.yaml --grid 6.6,6.8,7.0,7.2,7.4,7.6 --seeds 40

The fault setting is the one of tests/cli/test_tolerate.cpp: neuron crashes on layers 1 and 2,
p = 0.01 a, 50 inputs. Writes a JSON summary to --out and a line per search to stdout.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

FAULTS = ["--set", "faults=[{kind: neuron_crash, layers: [1, 2], probability: 0.01}]", "--set", "inputs.count=50"]


def run(cmd, ok_codes=(0,)):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in ok_codes:
        sys.exit(f"tolerate_coverage: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r


def reference(a, tmp):
    # One run per grid rate, all with the same seed: the counter-based sampler gives every rate the
    # same random numbers (common random numbers), as in the search.
    pts = []
    for i, g in enumerate(a.grid):
        out = os.path.join(tmp, f"ref{i}")
        run([a.nfsim, "run", a.campaign, *FAULTS, "--set", f"faults[0].probability={0.01 * g!r}", "--set", f"trials={a.ref_trials}",
             "--set", f"seed={a.ref_seed}", "--set", "bounds=[]", "--out", out])
        p = json.load(open(os.path.join(out, "report.json")))["points"][0]
        pts.append((g, p["accuracy"]["drop"], p["trials"]))
    # Least squares of the drop on log rate over the grid (equal trials).
    xs = [math.log(g) for g, _, _ in pts]
    ys = [d for _, d, _ in pts]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    c = my - b * mx
    resid = max(abs(y - (c + b * x)) for x, y in zip(xs, ys))
    crossing = math.exp((a.epsilon - c) / b)
    return crossing, b, resid, pts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nfsim", required=True)
    ap.add_argument("--campaign", required=True)
    ap.add_argument("--grid", required=True, help="scales a around the crossing, comma-separated")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--ref-trials", type=int, default=400000)
    ap.add_argument("--ref-seed", type=int, default=99991)
    ap.add_argument("--epsilon", type=float, default=0.01)
    ap.add_argument("--max-trials", type=int, default=200000)
    ap.add_argument("--rate-precision", type=float, default=0.05)
    ap.add_argument("--reference", type=float, help="a reference rate measured before (skips the grid runs)")
    ap.add_argument("--out")
    a = ap.parse_args()
    a.grid = [float(g) for g in a.grid.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        if a.reference:
            crossing, slope = a.reference, None
            print(f"reference: a = {crossing:.4f} (given)")
        else:
            crossing, slope, resid, pts = reference(a, tmp)
            print(f"reference: drop = {a.epsilon} at a = {crossing:.4f} (slope {slope:.4f} per unit log a, "
                  f"largest residual of the line {resid:.2e}; {a.ref_trials} trials per grid point)")
            for g, d, t in pts:
                print(f"  a = {g:.4f}: drop {d:.5f} ({t} trials)")
        rows = []
        for s in range(1, a.seeds + 1):
            out = os.path.join(tmp, f"t{s}.json")
            run([a.nfsim, "tolerate", a.campaign, *FAULTS, "--set", f"seed={s}", "--epsilon", str(a.epsilon), "--metric",
                 "accuracy_drop", "--max-trials", str(a.max_trials), "--rate-precision", str(a.rate_precision), "--out", out],
                ok_codes=(0, 3))  # 3: an unconfirmed interval, still checked
            t = json.load(open(out))
            e = t["estimated"]
            lo, hi = e["interval"]
            conf = e.get("confirmation") or {}
            row = {"seed": s, "estimate": e["rate"], "lo": lo, "hi": hi, "relative_width": e["relative_width"],
                   "trials": t["search"]["trials"], "confirmation_trials": conf.get("trials", 0),
                   "seconds": t["search"]["seconds"], "stop": t["search"]["stop_reason"],
                   "covers": lo <= crossing <= hi, "estimate_error": e["rate"] / crossing - 1}
            rows.append(row)
            print(f"seed {s:3d}: [{lo:.4f}, {hi:.4f}] width {row['relative_width']:.4f} estimate {e['rate']:.4f} "
                  f"({100 * row['estimate_error']:+.2f}%) covers {'yes' if row['covers'] else 'NO'} "
                  f"{row['trials']} + {row['confirmation_trials']} trials {row['seconds']:.1f} s {row['stop']}")
    covered = sum(r["covers"] for r in rows)
    widths = sorted(r["relative_width"] for r in rows)
    trials = sorted(r["trials"] for r in rows)
    errs = sorted(abs(r["estimate_error"]) for r in rows)
    summary = {"campaign": a.campaign, "reference_rate": crossing, "reference_slope": slope, "reference_trials": a.ref_trials,
               "searches": len(rows), "covered": covered, "median_relative_width": widths[len(widths) // 2],
               "max_relative_width": widths[-1], "median_trials": trials[len(trials) // 2], "max_trials": trials[-1],
               "median_abs_estimate_error": errs[len(errs) // 2], "max_abs_estimate_error": errs[-1], "runs": rows}
    print(f"covered {covered}/{len(rows)}; relative width median {summary['median_relative_width']:.4f} max "
          f"{widths[-1]:.4f}; trials median {summary['median_trials']} max {trials[-1]}; |estimate error| median "
          f"{100 * summary['median_abs_estimate_error']:.2f}% max {100 * errs[-1]:.2f}%")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
