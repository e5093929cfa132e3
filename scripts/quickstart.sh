#!/usr/bin/env bash
# Quick start: create or reuse .venv, install synth (core only), run the whole pipeline on the
# example corpus, offline, with no API key. Outputs land in runs/example/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e . 2>&1 | grep -v "^WARNING: Location" || true
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv/bin/synth run configs/example.yaml "$@"
echo "Open runs/example/reports/index.html for the run report."
