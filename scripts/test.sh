#!/usr/bin/env bash
# Tests: create or reuse .venv, install synth with the dev, train and embed extras
# (torch pinned to the local CPU build), then run the whole test suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip_install() {  # quiet on success; on failure show pip's output (less local-index noise) and stop
  local log; log=$(mktemp)
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2; exit 1
  fi
}
pip_install torch==2.13.0
pip_install -e '.[dev,train,embed]'
# headless Chromium + driver for the review page's browser test (Debian packages; needs root)
if [ "$(id -u)" = 0 ]; then
  { command -v chromium && command -v chromedriver; } >/dev/null || \
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } >/dev/null
fi
# the LitGPT tests (-m litgpt) create synth's LitGPT venv .venv-litgpt on first use and reuse it
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest -q "$@"
