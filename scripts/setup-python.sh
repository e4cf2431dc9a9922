#!/usr/bin/env bash
# Creates the project's Python environments (idempotent):
#   .venv-dev : onnx (checker, backend test data), onnx-tool, numpy, ncnn, pnnx — used by tests and scripts
# The ncnn runtime worker uses its own venv, created by `fdk setup ncnn` (see src/runtime/ncnn).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-dev/bin/python ]; then
  "$PY" -m venv .venv-dev
fi
.venv-dev/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
