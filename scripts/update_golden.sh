#!/usr/bin/env bash
# Regenerates the golden reports (tests/regression/golden/*.report.json) from the current code and
# shows what changed, for review before committing:
#   scripts/update_golden.sh [BUILD_DIR]      (default: build)
# Builds nothing: build nfsim and nfsim_cli_tests first (e.g. cmake --build build). A change to a
# golden file means a number in report.json changed; commit it only when that change is intended.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ "$build" = /* ]] || build="$repo/$build"
tests="$build/tests/nfsim_cli_tests"
[[ -x "$tests" ]] || { echo "update_golden.sh: $tests not found; build it first (cmake --build $build --target nfsim_cli_tests)" >&2; exit 2; }
# The test binary writes into the source tree it was configured from; refuse another one.
configured=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
if [[ "$(cd "$configured" && pwd -P)" != "$(cd "$repo" && pwd -P)" ]]; then
  echo "update_golden.sh: $build was configured for $configured, not $repo" >&2
  exit 2
fi
NFSIM_UPDATE_GOLDEN=1 "$tests" --gtest_filter='GoldenReport.*'
cd "$repo"
echo
echo "== git status tests/regression/golden"
git status --short -- tests/regression/golden
echo "== git diff --stat tests/regression/golden"
git diff --stat -- tests/regression/golden
git --no-pager diff -- tests/regression/golden
if git diff --quiet -- tests/regression/golden && [[ -z "$(git status --porcelain -- tests/regression/golden)" ]]; then
  echo "golden reports unchanged"
fi
