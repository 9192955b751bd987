#!/usr/bin/env bash
# `make bench`: every performance ratio, measured side by side in one run on this
# machine, written to bench/RESULTS.md (the raw outputs stay in BUILD/bench-results).
#
#   bench/compare.sh [BUILD_DIR]        (default: build; expects a Release build of nfsim)
#
# Environment: NFSIM_BENCH_REPS (default 3) repetitions of each whole-program measurement (the
# medians are reported); NFSIM_BENCH_PEER_TRIALS (default 10000) and NFSIM_BENCH_CNN_PEER_TRIALS
# (default 1000) trials of the PyTorch peer on the MLP and on the CNN; NFSIM_BENCH_SNN_PEER_TRIALS
# (default 200) trials of the spiking peer.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
NFSIM="$BUILD/apps/nfsim"
OUT="$BUILD/bench-results"
REPS="${NFSIM_BENCH_REPS:-3}"
PEER_TRIALS="${NFSIM_BENCH_PEER_TRIALS:-10000}"
CNN_PEER_TRIALS="${NFSIM_BENCH_CNN_PEER_TRIALS:-1000}"
SNN_PEER_TRIALS="${NFSIM_BENCH_SNN_PEER_TRIALS:-200}"
IMAGES=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
PYTHON=/usr/bin/python3

fail() { echo "bench/compare.sh: $*" >&2; exit 2; }
[ -x "$NFSIM" ] || fail "$NFSIM not built (run make build first)"
[ -x "$BUILD/bench/nfsim_bench_functional" ] || fail "$BUILD/bench not built (configure with -DNFSIM_BUILD_BENCH=ON)"
[ -r "$IMAGES" ] || fail "$IMAGES missing (the Fashion-MNIST test set)"
"$PYTHON" -c "import torch, onnx" 2>/dev/null || fail "PyTorch or onnx missing for $PYTHON (bash scripts/install-deps.sh --python)"
command -v mpirun > /dev/null || fail "mpirun missing (bash scripts/install-deps.sh)"

rm -rf "$OUT"
mkdir -p "$OUT"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# OpenMPI refuses to start as root without these (CI containers run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
log() { echo "[bench $(date +%H:%M:%S)] $*"; }

log "Google Benchmark: hot parts (5 repetitions each)"
for b in functional chip; do
  "$BUILD/bench/nfsim_bench_$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out="$OUT/gbench_$b.json" --benchmark_out_format=json
done

log "1. PyTorch peer against nfsim's functional engine, interleaved, $REPS times"
for r in $(seq 1 "$REPS"); do
  "$NFSIM" run "$ROOT/bench/campaigns/peer.yaml" --out "$OUT/peer_nfsim_$r" > "$OUT/peer_nfsim_$r.log"
  "$PYTHON" "$ROOT/bench/peer_torch.py" --model "$ROOT/examples/models/fmnist_mlp.onnx" --images "$IMAGES" \
    --count 100 --p 0.01 --trials "$PEER_TRIALS" --seed "$r" --out "$OUT/peer_torch_$r.json"
  log "   round $r done"
done

log "9. The conv Monte Carlo: PyTorch peer against nfsim on the bundled CNN, interleaved, $REPS times"
for r in $(seq 1 "$REPS"); do
  "$NFSIM" run "$ROOT/bench/campaigns/peer_cnn.yaml" --out "$OUT/peer_cnn_nfsim_$r" > "$OUT/peer_cnn_nfsim_$r.log"
  "$PYTHON" "$ROOT/bench/peer_torch.py" --model "$ROOT/examples/models/fmnist_cnn.onnx" --images "$IMAGES" \
    --count 100 --p 0.01 --trials "$CNN_PEER_TRIALS" --seed "$r" --out "$OUT/peer_cnn_torch_$r.json"
  log "   round $r done"
done

log "14. The spiking Monte Carlo: PyTorch time-stepped peer against nfsim's spiking engine, interleaved, $REPS times"
for r in $(seq 1 "$REPS"); do
  "$NFSIM" run "$ROOT/bench/campaigns/peer_snn.yaml" --out "$OUT/peer_snn_nfsim_$r" > "$OUT/peer_snn_nfsim_$r.log"
  "$PYTHON" "$ROOT/bench/peer_snn_torch.py" --model "$ROOT/examples/models/fmnist_mlp.onnx" --images "$IMAGES" \
    --count 100 --time-steps 32 --p 0.01 --trials "$SNN_PEER_TRIALS" --seed "$r" --out "$OUT/peer_snn_torch_$r.json"
  log "   round $r done"
done

log "10. PyTorch's CPU inference of the CNN (batch of 100, one thread), $REPS times"
for r in $(seq 1 "$REPS"); do
  "$PYTHON" "$ROOT/bench/peer_torch.py" --model "$ROOT/examples/models/fmnist_cnn.onnx" --images "$IMAGES" \
    --count 100 --threads 1 --forward-only 200 --out "$OUT/torch_forward_$r.json"
done

log "4. Monte Carlo until every std has a 1% relative half-width (trials: auto), one thread, $REPS times"
AUTO_ARGS=(run "$ROOT/bench/campaigns/peer.yaml" --trials auto --threads 1
           --set stopping.rel_half_width=0.01 --set stopping.min_trials=1000 --set stopping.max_trials=10000000)
for r in $(seq 1 "$REPS"); do
  "$NFSIM" "${AUTO_ARGS[@]}" --out "$OUT/auto_$r" > "$OUT/auto_$r.log"
done

log "12-13. Time to a 1% relative half-width on every std: the control variate against plain Monte Carlo (peer campaign, one thread), $REPS times"
# p = 0.01: the plain runs are row 4's (auto_*). p = 0.001: plain Monte Carlo would need millions of
# trials (about 5 minutes a run), so it runs 20,000 and its time to 1% is extrapolated (half-width
# as 1/sqrt(trials)); the control variate runs to the target.
CV_ARGS=(run "$ROOT/bench/campaigns/peer.yaml" --trials auto --threads 1 --set estimator=control_variate
         --set stopping.rel_half_width=0.01 --set stopping.min_trials=1000 --set stopping.max_trials=10000000)
for r in $(seq 1 "$REPS"); do
  "$NFSIM" "${CV_ARGS[@]}" --out "$OUT/cv_p01_$r" > "$OUT/cv_p01_$r.log"
  "$NFSIM" "${CV_ARGS[@]}" --set 'faults[0].probability=0.001' --out "$OUT/cv_p001_$r" > "$OUT/cv_p001_$r.log"
  "$NFSIM" run "$ROOT/bench/campaigns/peer.yaml" --trials 20000 --threads 1 --set 'faults[0].probability=0.001' \
    --out "$OUT/plain_p001_$r" > "$OUT/plain_p001_$r.log"
done

log "7. Synapse crashes on layer 1: Monte Carlo until every std has a 1% relative half-width, one thread, once"
# The target needs about 50,000 trials here (about 4 hours on one thread), so the run is capped by
# NFSIM_BENCH_SYNAPSE_MAX_TRIALS (default 1000, about 5 minutes); a run that stops at the cap is
# reported with its time extrapolated to the target (half-width as 1/sqrt(trials)), and says so.
"$NFSIM" run "$ROOT/bench/campaigns/synapse.yaml" --trials auto --threads 1 --set stopping.rel_half_width=0.01 \
  --set stopping.min_trials=1000 --set stopping.max_trials="${NFSIM_BENCH_SYNAPSE_MAX_TRIALS:-1000}" \
  --out "$OUT/synapse_auto" > "$OUT/synapse_auto.log"

log "8. bounds: [] on the synapse campaign (300 trials, one thread), $REPS times"
for r in $(seq 1 "$REPS"); do
  "$NFSIM" run "$ROOT/bench/campaigns/synapse.yaml" --threads 1 --trials 300 --set 'bounds=[]' --out "$OUT/synapse_none_$r" > "$OUT/synapse_none_$r.log"
done

log "11. The chip engine (differential) against the functional engine on the peer campaign with a chip, one thread each, $REPS times"
for r in $(seq 1 "$REPS"); do
  "$NFSIM" run "$ROOT/bench/campaigns/peer_chip.yaml" --threads 1 --out "$OUT/chip_diff_$r" > "$OUT/chip_diff_$r.log"
  "$NFSIM" run "$ROOT/bench/campaigns/peer_chip.yaml" --threads 1 --engine functional --trials 20000 \
    --out "$OUT/chip_func_$r" > "$OUT/chip_func_$r.log"
done
# For the record: the same chip simulated in full (every inference through SystemC), once.
"$NFSIM" run "$ROOT/bench/campaigns/peer_chip.yaml" --threads 1 --trials 200 --set chip_simulation=full \
  --out "$OUT/chip_full" > "$OUT/chip_full.log"

log "5. MPI: 2 ranks against 1 process (one thread each), $REPS times"
# 300,000 trials (about 15 s per process): MPI's start-up and the final merge are fixed costs.
MPI_ARGS=(run "$ROOT/bench/campaigns/peer.yaml" --trials 300000 --threads 1)
for r in $(seq 1 "$REPS"); do
  "$NFSIM" "${MPI_ARGS[@]}" --out "$OUT/mpi1_$r" > "$OUT/mpi1_$r.log"
  mpirun --oversubscribe -np 2 "$NFSIM" "${MPI_ARGS[@]}" --out "$OUT/mpi2_$r" > "$OUT/mpi2_$r.log" 2>&1
done

log "6. Peak RSS at 10^5 and 10^7 trials"
"$NFSIM" run "$ROOT/bench/campaigns/memory.yaml" --trials 100000 --out "$OUT/rss_1e5" > "$OUT/rss_1e5.log"
"$NFSIM" run "$ROOT/bench/campaigns/memory.yaml" --trials 10000000 --out "$OUT/rss_1e7" > "$OUT/rss_1e7.log"

log "Writing bench/RESULTS.md"
"$PYTHON" "$ROOT/bench/summarize.py" --results "$OUT" --reps "$REPS" --build "$BUILD" --out "$ROOT/bench/RESULTS.md.tmp"
mv "$ROOT/bench/RESULTS.md.tmp" "$ROOT/bench/RESULTS.md"
log "done: bench/RESULTS.md"
