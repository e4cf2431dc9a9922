#!/usr/bin/env bash
# Creates the project's dev Python environment (idempotent):
#   .venv-dev : onnx (checker, backend node-test data), onnx-tool, numpy, ncnn  — used by tests and scripts
#   --bench   : also pnnx, torch, torchvision (~5 GB), for `npm run bench:convert` and the corpus (docs/corpus.md) only; CI does not install it.
# The ncnn runtime worker uses its own venv, created by `fdk setup ncnn` (see src/runtime/ncnn-venv.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-dev/bin/python ]; then
  "$PY" -m venv .venv-dev
fi
.venv-dev/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
if [ "${1:-}" = "--bench" ]; then
  .venv-dev/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-bench.txt
fi
