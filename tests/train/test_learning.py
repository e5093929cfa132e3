"""Training that must learn: synth train overfits one packed row at a high learning rate, trains a
saved folder of real (tiny) weights with --base on a CPU in float32, and fails (exit 8, reason in
the report) a run whose loss never falls. All through synth's own train code path."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml
from pairs_fixture import corpus, run_config, tiny_tokenizer

from synth.cli import main
from synth.config import dump_config
from synth.curate.stage import load_curated, run_curate
from synth.export.stage import run_export
from synth.records import TrainResult
from synth.rundir import RunDir
from synth.train import TrainOptions, run_train
from synth.train.stage import loss_never_fell, verdict_problems

pytestmark = [pytest.mark.train, pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                                                    reason="train extra not installed")]


def export_run(tmp, base):
    config = run_config(tmp, tiny_tokenizer(tmp / "tiny"), base=base)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=2))  # the practical expert: one packed row
    run_export(config, run, load_curated(run))
    return config, run


def set_sft(run, expert, **values):
    """Edit the exported config/trl.yaml the way a user would (synth train runs it as written)."""
    path = run.path("export", expert, "config", "trl.yaml")
    data = yaml.safe_load(path.read_text())
    data["sft"].update(values)
    path.write_text(yaml.safe_dump(data))
    return data


@pytest.fixture(scope="module")
def one_row(tmp_path_factory):
    return export_run(tmp_path_factory.mktemp("one-row"), "qwen3")


def test_overfits_one_row_at_a_high_learning_rate(one_row):
    config, run = one_row
    set_sft(run, "practical", learning_rate=3e-2, per_device_train_batch_size=1,
            gradient_accumulation_steps=1)
    options = TrainOptions(max_steps=30, evaluate=False, report=False)
    result = run_train(config, run, ["practical"], options, lambda _: None)[0]
    assert result.figures["rows"] == 1 and result.steps == 30 and result.model_kind == "tiny"
    first, last = result.train_loss[0][1], result.train_loss[-1][1]
    assert first > 5.0  # about ln(400): the tiny tokenizer's vocabulary, nothing learned yet
    assert last < first / 2, result.train_loss  # it memorises the row: the code path learns


def test_a_run_whose_loss_never_falls_fails_with_exit_8_and_says_why(one_row, capsys):
    config, run = one_row
    set_sft(run, "practical", learning_rate=0.0, per_device_train_batch_size=1,
            gradient_accumulation_steps=1)
    config_file = run.root.parent / "never-falls.yaml"
    config_file.write_text(dump_config(config))
    assert main(["train", str(config_file), "--expert", "practical", "--max-steps", "2"]) == 8
    assert "the loss never fell below its first value in 2 steps" in capsys.readouterr().err
    saved = TrainResult.model_validate_json(run.report("train_practical.json").read_text())
    assert any("never fell" in p for p in saved.problems)
    assert "FAILED: " in run.report("train_practical.html").read_text()


def result_with(train, val=()):
    return TrainResult(expert="e", base_model="m", model_kind="tiny", device="cpu", adapter_dir="a",
                       steps=len(train), train_loss=list(train), eval_loss=list(val),
                       figures={"lora_b_moved": 4, "lora_b_total": 4})


def test_the_verdict_reads_both_curves_and_leaves_one_point_unjudged():
    flat = [(1, 2.0), (2, 2.0), (3, 2.01)]
    assert loss_never_fell(result_with(flat)) and verdict_problems(result_with(flat))
    assert loss_never_fell(result_with(flat, [(0, 3.0), (3, 3.0)]))[0].startswith("the loss never fell")
    assert loss_never_fell(result_with(flat, [(0, 3.0), (3, 2.9)])) == []  # val fell
    assert loss_never_fell(result_with([(1, 2.0), (2, 2.0), (3, 1.9)])) == []  # train fell
    assert verdict_problems(result_with([(1, 2.0)])) == []  # one step: nothing to compare


@pytest.fixture(scope="module")
def weights_folder(tmp_path_factory):
    """A Qwen3 folder of real (tiny, random) weights saved in bf16 by save_pretrained, as a
    downloaded checkpoint is, with the tiny tokenizer beside them."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synth.export.basemodel import BUNDLED
    from synth.train.model import tiny_config

    tmp = tmp_path_factory.mktemp("weights")
    folder = tmp / "Qwen3-tiny"
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_tokenizer(tmp / "tiny")))
    qwen3 = json.loads((BUNDLED / "Qwen--Qwen3-8B.json").read_text())
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_config(qwen3, tokenizer)).to(torch.bfloat16)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def test_base_weights_from_a_folder_train_in_float32_on_a_cpu(tmp_path, weights_folder):
    from safetensors import safe_open

    with safe_open(str(weights_folder / "model.safetensors"), "pt") as saved:
        assert {str(saved.get_tensor(k).dtype) for k in saved.keys()} == {"torch.bfloat16"}
    config, run = export_run(tmp_path, str(weights_folder))
    trl = yaml.safe_load(run.path("export", "practical", "config", "trl.yaml").read_text())
    assert trl["sft"]["model_init_kwargs"]["dtype"] == "bfloat16"  # what a GPU loads
    result = run_train(config, run, ["practical"], TrainOptions(tiny=False, max_steps=3),
                       lambda _: None)[0]
    assert result.model_kind == "base" and result.device == "cpu"
    assert result.dtype == "float32"  # no bf16 autocast on a CPU: the weights are upcast
    assert result.settings["bf16"] is False and result.adapter_problems == [] and result.problems == []
    assert result.figures["lora_b_moved"] == result.figures["lora_b_total"] > 0
    saved = json.loads(run.path("export", "adapters", "practical", "adapter_config.json").read_text())
    assert saved["base_model_name_or_path"] == str(weights_folder)
