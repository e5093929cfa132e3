#!/usr/bin/env bash
# Tests: create or reuse .venv, install synth with the dev, train, embed and screen extras
# (torch pinned to the local CPU build), then run the whole test suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv 'dev,train,embed,screen,ray'
# headless Chromium + driver for the review page's browser test (Debian packages; needs root)
if [ "$(id -u)" = 0 ]; then
  { command -v chromium && command -v chromedriver; } >/dev/null || \
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } >/dev/null
fi
# the LitGPT tests (-m litgpt) create synth's LitGPT venv .venv-litgpt on first use and reuse it
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest -q "$@"
