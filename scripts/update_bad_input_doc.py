#!/usr/bin/env python3
"""Rewrites the message column of docs/bad-input.md with what nfsim prints today.

    scripts/update_bad_input_doc.py [BUILD_DIR]      (default: build)

Runs BUILD_DIR/tests/nfsim_cli_tests --gtest_filter='Refused/*' (each case prints
"[case] message", the temporary directory shown as D) and puts each message in the row that
names its case. A case without a row, or a row without a case, is an error (exit 1): add the row
by hand (its "bad input" column is prose), then run this again. The test
BadInputDoc.EveryCaseHasOneRowAndEveryRowACase keeps the two in step in every build.
"""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
binary = os.path.join(build, "tests", "nfsim_cli_tests")
if not os.access(binary, os.X_OK):
    sys.exit(f"update_bad_input_doc.py: {binary} not built (make build)")
run = subprocess.run([binary, "--gtest_filter=Refused/*"], capture_output=True, text=True)
if run.returncode != 0:
    sys.exit(f"update_bad_input_doc.py: {binary} failed (exit {run.returncode}); fix the tests first:\n{run.stdout[-4000:]}")
messages = dict(re.findall(r"^\[([a-z0-9_]+)\] (.*)$", run.stdout, re.M))
if not messages:
    sys.exit("update_bad_input_doc.py: the test printed no '[case] message' lines")

doc_path = os.path.join(root, "docs", "bad-input.md")
with open(doc_path) as f:
    lines = f.read().split("\n")
row = re.compile(r"^\| (.*?) \| `([a-z0-9_]+)` \| (.*) \|$")
seen = set()
for i, line in enumerate(lines):
    m = row.match(line)
    if not m:
        continue
    case = m.group(2)
    if case not in messages:
        sys.exit(f"update_bad_input_doc.py: {doc_path}:{i + 1}: case '{case}' is not in tests/cli/test_bad_input.cpp")
    lines[i] = f"| {m.group(1)} | `{case}` | {messages[case].replace('|', chr(92) + '|')} |"
    seen.add(case)
missing = sorted(set(messages) - seen)
if missing:
    sys.exit(f"update_bad_input_doc.py: no row in {doc_path} for: {', '.join(missing)}")
tmp = doc_path + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines))
os.replace(tmp, doc_path)
print(f"update_bad_input_doc.py: {len(seen)} messages written to {doc_path}")
