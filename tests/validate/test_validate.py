"""Validate stage: voice and id checks, TRL+PEFT steps from the exported config (packed: synth
train's code; JSONL: TRL's own tokenization), adapter servability, reports."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from export_fixture import build_tiny_tokenizer, make_run

from synth.errors import InputError, ValidationFailed
from synth.export.manifest import exported_experts, load_manifest
from synth.export.stage import base_model_of
from synth.records import ValidationReport
from synth.train.adapter import adapter_problems
from synth.train.launch import training_extra_missing
from synth.train.model import tokenizer_with_pad
from synth.train.trainer import load_train_config
from synth.validate import stage as validate
from synth.validate.litgpt import litgpt_checks
from synth.validate.trl import jsonl_step

needs_train = pytest.mark.skipif(bool(training_extra_missing()), reason="train extra not installed")


def _rewrite(path: Path, change) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    change(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_voice_and_ids_pass_on_a_clean_export(tmp_path):
    _config, run = make_run(tmp_path)
    sources = validate.pair_source_texts(run)
    for expert in exported_experts(run, ValidationFailed):
        voice = validate.voice_check(run, expert, sources)
        ids = validate.ids_check(run, expert)
        assert (voice.status, ids.status) == ("pass", "pass"), (voice, ids)
        assert voice.figures["rows"] == 16 and ids.figures == {"train": 6, "val": 2}


def test_voice_fails_when_an_answer_differs_from_its_segment(tmp_path):
    _config, run = make_run(tmp_path)
    path = run.path("export", "practical", "litgpt", "train.jsonl")
    changed = {}

    def edit(rows):
        rows[2]["output"] = rows[2]["output"].rstrip(".") + " and more."
        changed["id"] = rows[2]["id"]

    _rewrite(path, edit)
    check = validate.voice_check(run, "practical", validate.pair_source_texts(run))
    assert check.status == "fail"
    assert changed["id"] in check.detail and "litgpt/train" in check.detail
    assert validate.voice_check(run, "empathetic", validate.pair_source_texts(run)).status == "pass"


def test_messages_format_is_checked_when_exported(tmp_path):
    _config, run = make_run(tmp_path, experts=("empathetic",))
    for split in ("train", "val"):
        trl = [json.loads(line) for line in
               run.path("export", "empathetic", "trl", f"{split}.jsonl").read_text().splitlines()]
        rows = [{"id": r["id"], "expert": r["expert"], "messages": r["prompt"] + r["completion"]} for r in trl]
        if split == "val":
            rows[0]["messages"][-1]["content"] = "A paraphrase, not the speaker's words."
        path = run.path("export", "empathetic", "messages", f"{split}.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    voice = validate.voice_check(run, "empathetic", validate.pair_source_texts(run))
    assert voice.status == "fail" and "messages/val" in voice.detail and voice.figures["rows"] == 24
    assert validate.ids_check(run, "empathetic").detail == "same ids and split in trl, litgpt, messages"


def test_ids_check_catches_a_pair_on_both_sides_of_the_split(tmp_path):
    _config, run = make_run(tmp_path)
    for fmt in ("trl", "litgpt"):
        train = run.path("export", "educational", fmt, "train.jsonl")
        val = run.path("export", "educational", fmt, "val.jsonl")
        val.write_text(val.read_text() + train.read_text().splitlines()[0] + "\n")
    check = validate.ids_check(run, "educational")
    assert check.status == "fail" and "both train and val" in check.detail


def test_bad_export_line_is_named_by_file_and_line(tmp_path):
    _config, run = make_run(tmp_path)
    path = run.path("export", "therapeutic", "trl", "val.jsonl")
    path.write_text(path.read_text() + '{"id": "x", "expert": "therapeutic"}\n')
    with pytest.raises(InputError) as err:
        validate.voice_check(run, "therapeutic", validate.pair_source_texts(run))
    assert str(path) in str(err.value) and "line 3" in str(err.value) and "prompt" in str(err.value)


def test_missing_manifest_says_run_export_first(tmp_path):
    config, run = make_run(tmp_path)
    run.path("export", "manifest.json").unlink()
    with pytest.raises(ValidationFailed, match="synth export"):
        validate.run_validate(config, run)


def test_export_for_another_base_model_is_refused(tmp_path):
    config, run = make_run(tmp_path, base="qwen3", experts=("practical",))
    config.export.base_model = "llama3_1"
    with pytest.raises(ValidationFailed, match="made for qwen3"):
        validate.run_validate(config, run)


def test_missing_train_extra_is_skipped_with_install_hint(tmp_path, monkeypatch):
    config, run = make_run(tmp_path, experts=("empathetic",))
    monkeypatch.setattr(validate, "training_extra_missing", lambda: "trl")
    checks = validate.trl_checks(config, run, ["empathetic"], print)
    assert {c.check: c.status for c in checks} == {"trl_lora_step": "skipped", "trl_jsonl_step": "skipped",
                                                   "adapter_servable": "skipped"}
    assert "pip install -e '.[train]'" in checks[0].detail


def test_litgpt_venv_that_cannot_be_created_fails_with_a_clear_message(tmp_path):
    config, run = make_run(tmp_path, experts=("empathetic",))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the venv's parent should be")
    config.validate_.litgpt_venv = str(blocker / "venv")
    config, run = make_run(tmp_path, experts=("empathetic",), real_export=True)
    config.validate_.litgpt_venv = str(blocker / "venv")
    checks = litgpt_checks(config, run, ["empathetic"], load_manifest(run, ValidationFailed), print)
    assert [c.status for c in checks] == ["fail"]
    assert "cannot set up the LitGPT venv" in checks[0].detail and "Create it by hand" in checks[0].detail


def test_adapter_problems_name_what_vllm_rejects(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 8, "lora_alpha": 16, "use_dora": True,
        "modules_to_save": ["lm_head"], "target_modules": ["q_proj", "embed_tokens"]}))
    problems = " | ".join(adapter_problems(folder))
    assert "use_dora" in problems and "modules_to_save" in problems
    assert "embed_tokens" in problems and "adapter_model.safetensors missing" in problems
    assert adapter_problems(tmp_path / "absent") == [f"{tmp_path / 'absent' / 'adapter_config.json'} missing"]


@needs_train
@pytest.mark.train
@pytest.mark.parametrize("base", ["qwen3", "llama3_1"])
def test_trl_steps_run_the_exported_config_on_a_tiny_target_model(tmp_path, base):
    config, run = make_run(tmp_path, base=base, experts=("therapeutic",), real_export=True)
    checks = {c.check: c for c in validate.trl_checks(config, run, ["therapeutic"], print)}
    assert [c.status for c in checks.values()] == ["pass"] * 3, [c.detail for c in checks.values()]
    packed = checks["trl_lora_step"].figures
    assert math.isfinite(packed["first_loss"]) and packed["lora_b_moved"] > 0
    assert packed["peft_reload_max_diff"] <= 1e-4
    assert checks["trl_jsonl_step"].figures["lora_b_moved"] > 0
    adapter = run.path("validate", "trl", "therapeutic", "adapter")
    config_json = json.loads((adapter / "adapter_config.json").read_text())
    exported = load_train_config(run.path("export", "therapeutic", "config", "trl.yaml")).lora
    assert config_json["use_dora"] is False and config_json["modules_to_save"] is None
    assert config_json["r"] == exported["r"] and config_json["lora_alpha"] == exported["lora_alpha"]
    assert not run.path("export", "adapters").exists()  # validation never touches served adapters


def _jsonl_check(tmp_path, tokenizer_folder=None):
    config, run = make_run(tmp_path, experts=("practical",), real_export=True)
    file = load_train_config(run.path("export", "practical", "config", "trl.yaml"))
    tokenizer = tokenizer_with_pad(str(tokenizer_folder or config.export.tokenizer))
    return run, lambda: jsonl_step(file, run.path("export", "practical", "trl"), tmp_path / "out",
                                   base_model_of(config), tokenizer)


@needs_train
@pytest.mark.train
def test_trl_step_fails_when_the_export_lacks_the_completion(tmp_path):
    run, step = _jsonl_check(tmp_path)
    path = run.path("export", "practical", "trl", "train.jsonl")
    _rewrite(path, lambda rows: [r.pop("completion") for r in rows])
    check = step()
    assert check.status == "fail" and "completion" in check.detail


@needs_train
@pytest.mark.train
def test_tiny_tokenizer_fallback_trains_too(tmp_path):
    _run, step = _jsonl_check(tmp_path, build_tiny_tokenizer(tmp_path / "tiny"))
    assert step().status == "pass"


def test_validation_report_round_trips_and_names_failures(tmp_path):
    _config, run = make_run(tmp_path, experts=("practical",))
    checks = [validate.voice_check(run, "practical", validate.pair_source_texts(run)),
              validate._check("practical", "trl_lora_step", "fail", "loss is not finite")]
    report = ValidationReport(run_dir=str(run.root), base_model="qwen3", checks=checks)
    assert not report.passed and report.failed[0].check == "trl_lora_step"
    from synth.validate.report import write_validation_html

    page = write_validation_html(tmp_path / "v.html", report).read_text()
    assert "1 check(s) FAILED" in page and "loss is not finite" in page
