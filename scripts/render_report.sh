#!/usr/bin/env bash
# Renders an nfsim report.html to a PNG screenshot with headless Chromium (Debian's chromium):
#   scripts/render_report.sh results/my_campaign/report.html [out.png]
# Prints the PNG's path. Needs no network: the report is one self-contained file.
set -euo pipefail
html=${1:?usage: render_report.sh REPORT.html [OUT.png]}
png=${2:-${html%.html}.png}
[[ -f "$html" ]] || { echo "render_report.sh: $html: no such file" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || { echo "render_report.sh: chromium not installed (scripts/install-deps.sh installs it)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(readlink -f "$html")
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=${NFSIM_SHOT_SIZE:-1200,1500} --screenshot="$(readlink -f "$(dirname "$png")")/$(basename "$png")" "file://$abs" > /dev/null 2>&1
[[ -s "$png" ]] || { echo "render_report.sh: chromium wrote no screenshot" >&2; exit 1; }
echo "$png"
