"""LitGPT gate in synth's own LitGPT venv (created on first use: ~1 min, ~1 GB; then reused).

Marked `litgpt` and `slow`; scripts/test.sh and CI run them (nothing deselects the marks).
"""
from __future__ import annotations

import json

import pytest
from export_fixture import make_run

from synth.errors import ValidationFailed
from synth.export.manifest import load_manifest
from synth.train.launch import training_extra_missing
from synth.validate import stage as validate
from synth.validate.litgpt import build_spec

pytestmark = [pytest.mark.litgpt, pytest.mark.slow]


@pytest.mark.skipif(bool(training_extra_missing()), reason="train extra not installed")
def test_run_validate_passes_every_check_on_a_clean_export(tmp_path):
    config, run = make_run(tmp_path, base="qwen3", experts=("practical",), lora_step=True,
                           real_export=True)
    report = validate.run_validate(config, run)
    statuses = {(c.expert, c.check): c.status for c in report.checks}
    assert report.passed, [c for c in report.checks if c.status != "pass"]
    for name in ("voice", "ids_match", "trl_lora_step", "trl_jsonl_step", "adapter_servable",
                 "litgpt_load", "litgpt_lora_step"):
        assert statuses["practical", name] == "pass"
    saved = json.loads(run.path("reports", "validation.json").read_text())
    assert len(saved["checks"]) == 7
    assert "all checks passed" in run.path("reports", "validation.html").read_text()
    assert run.path("validate", "litgpt", "practical", "final", "lit_model.pth.lora").exists()


def test_litgpt_load_on_llama_names_a_row_litgpt_cannot_take(tmp_path):
    config, run = make_run(tmp_path, base="llama3_1", experts=("educational", "empathetic"),
                           real_export=True)
    path = run.path("export", "empathetic", "litgpt", "train.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["prompt"] = "a 'prompt' key makes LitGPT's prompt_style.apply raise TypeError"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest = load_manifest(run, ValidationFailed)
    spec = build_spec(config, run, ["educational", "empathetic"], manifest, tmp_path)
    assert spec["prompt_style"] == "llama3" and spec["model_name"] == "meta-llama/Meta-Llama-3.1-8B-Instruct"
    checks = {c.expert: c for c in validate.litgpt_checks(config, run, ["educational", "empathetic"],
                                                          manifest, print)}
    assert checks["educational"].status == "pass", checks["educational"].detail
    assert checks["educational"].figures["train_rows"] == 6 and checks["educational"].figures["batch_rows"] == 2
    assert checks["empathetic"].status == "fail"
    assert rows[1]["id"] in checks["empathetic"].detail and "TypeError" in checks["empathetic"].detail
