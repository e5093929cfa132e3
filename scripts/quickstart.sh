#!/usr/bin/env bash
# Quick start: create or reuse .venv, install synth with the train, embed and screen extras (torch pinned
# to the local CPU build), then run the whole pipeline on the example corpus, offline, with no
# API key: ingest+audit, generate, judge, curate, export, router, validate (TRL+PEFT LoRA step,
# LitGPT load in its own venv), report. Outputs land in runs/example/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv 'train,embed,screen'
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/synth run configs/example.yaml "$@"
echo "Run report: runs/example/reports/index.html"
