#!/usr/bin/env bash
# Installs the Debian packages nfsim needs, and nothing when all are present (gtkwave's vcd2fst
# checks VCD traces, chromium renders report.html in a test).
#
#   scripts/install-deps.sh            build, tests, examples, `make run`
#   scripts/install-deps.sh --python   also PyTorch/numpy/onnx for the fixture,
#                                      training and peer-benchmark scripts
#   scripts/install-deps.sh --fuzz     also clang and its libFuzzer/sanitizer runtimes (make fuzz)
#   scripts/install-deps.sh --check    only report what is missing (exit 1 if any)
#
# Idempotent: packages are checked with dpkg-query first; apt-get runs only for
# the missing ones. Needs root (or sudo) only when something is missing.
set -euo pipefail

core_packages=(
  g++ cmake make pkg-config
  libsystemc-dev
  libeigen3-dev
  libopenblas-dev
  libboost-program-options-dev libboost-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev
  nlohmann-json3-dev
  zlib1g-dev
  libhdf5-dev
  libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist
  gtkwave
  chromium
)
# libopenblas0-pthread: Debian's PyTorch calls the system BLAS, and the reference BLAS it falls
# back to without it is ~30x slower; the benchmark's peer should run as a user would have it.
python_packages=(python3-torch python3-numpy python3-onnx python3-h5py libopenblas0-pthread)
# make fuzz: clang with libFuzzer and the sanitizer runtimes.
fuzz_packages=(clang libclang-rt-14-dev)

want=("${core_packages[@]}")
check_only=0
for arg in "$@"; do
  case "$arg" in
    --python) want+=("${python_packages[@]}") ;;
    --fuzz) want+=("${fuzz_packages[@]}") ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (expected --python, --fuzz, --check, --help)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
[[ $check_only -eq 1 ]] && exit 1

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
