"""synth train: LoRA from the packed parquet with the exported config, on the tiny random model
of the base architecture (CPU), for Qwen3 and a local folder of another architecture (Gemma-2)."""

from __future__ import annotations

import importlib.util
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from model_folder import gemma_like_folder
from pairs_fixture import corpus, run_config, tiny_tokenizer

from synth.cli import main
from synth.config import dump_config
from synth.curate.stage import load_curated, run_curate
from synth.errors import InputError
from synth.export.stage import run_export
from synth.rundir import RunDir
from synth.train import TrainOptions, run_train
from synth.train.adapter import RELOAD_TOLERANCE, adapter_problems
from synth.train.data import packed_dataset

pytestmark = [pytest.mark.train, pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                                                    reason="train extra not installed")]


def exported(tmp_path, base="qwen3", tokenizer=None, per_expert=8):
    config = run_config(tmp_path, tokenizer, base=base)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=per_expert))
    run_export(config, run, load_curated(run))
    return config, run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    config, run = exported(tmp, tokenizer=tiny_tokenizer(tmp / "tiny"), per_expert=16)
    result = run_train(config, run, ["practical"], TrainOptions(), lambda _: None)[0]
    return config, run, result


def test_trains_from_the_packed_parquet_and_the_loss_falls(trained):
    _config, run, result = trained
    trl = yaml.safe_load(run.path("export", "practical", "config", "trl.yaml").read_text())
    exported_sft = trl["sft"]
    assert result.model_kind == "tiny" and result.device == "cpu"
    assert result.figures["rows"] == pq.read_table(run.path("export", "practical", "packed", "train.parquet")).num_rows
    assert result.steps == trl["expected_optimizer_steps"] > 1  # the exported batch schedule
    first, last = result.train_loss[0][1], result.train_loss[-1][1]
    assert last < first  # the exported learning rate on a random model: small but real
    assert result.eval_loss[0][0] == 0 and result.eval_loss[-1][1] < result.eval_loss[0][1]
    for key in ("learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps",
                "num_train_epochs", "lr_scheduler_type", "warmup_steps", "seed"):
        assert result.settings[key] == exported_sft[key]  # the exported settings, unchanged


def test_adapter_is_where_serve_sh_looks_and_servable(trained):
    config, run, result = trained
    adapter = run.path("export", config.export.adapters_dir, "practical")
    assert result.adapter_dir == str(adapter) and (adapter / "adapter_model.safetensors").exists()
    assert f'ADAPTERS="${{ADAPTERS:-{config.export.adapters_dir}}}"' in run.path("export", "serve.sh").read_text()
    assert adapter_problems(adapter) == [] and result.adapter_problems == []
    saved = json.loads((adapter / "adapter_config.json").read_text())
    exported = yaml.safe_load(run.path("export", "practical", "config", "trl.yaml").read_text())["lora"]
    assert saved["r"] == exported["r"] and saved["lora_alpha"] == exported["lora_alpha"]
    assert set(saved["target_modules"]) == set(exported["target_modules"])
    assert result.figures["peft_reload_max_diff"] <= RELOAD_TOLERANCE  # PEFT reloads it as trained
    assert result.figures["lora_b_moved"] == result.figures["lora_b_total"] > 0


def test_report_has_loss_curves(trained):
    _, run, result = trained
    html = run.report("train_practical.html").read_text()
    assert "train_practical_loss.png" in html and run.report("train_practical_loss.png").stat().st_size > 1000
    assert "accelerate launch --multi_gpu" in html and "--expert practical" in result.accelerate_command
    assert json.loads(run.report("train_practical.json").read_text())["expert"] == "practical"


def test_local_folder_of_another_architecture_trains(tmp_path):
    config, run = exported(tmp_path, base=str(gemma_like_folder(tmp_path / "gemma-local")))
    result = run_train(config, run, ["empathetic"], TrainOptions(max_steps=2), lambda _: None)[0]
    assert result.steps == 2 and result.adapter_problems == []
    assert result.figures["peft_reload_max_diff"] <= RELOAD_TOLERANCE
    saved = json.loads(run.path("export", "adapters", "empathetic", "adapter_config.json").read_text())
    assert set(saved["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                            "up_proj", "down_proj"}


def test_a_bad_packed_row_is_named(tmp_path, trained):
    _, run, _ = trained
    table = pq.read_table(run.path("export", "practical", "packed", "train.parquet"))
    positions = table.column("position_ids").to_pylist()
    positions[0][1] = 5
    bad = table.set_column(table.column_names.index("position_ids"), "position_ids",
                           pa.array(positions, type=pa.list_(pa.int32())))
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"bad.parquet, record 0, field 'position_ids'"):
        packed_dataset(tmp_path / "bad.parquet", 1000)


def test_cli_trains_and_refuses_a_missing_expert(trained, capsys):
    config, run, _ = trained
    config_file = run.root.parent / "train-config.yaml"
    config_file.write_text(dump_config(config))
    args = ["train", str(config_file)]
    assert main(args + ["--expert", "practical", "--max-steps", "1"]) == 0
    assert "accelerate launch" in capsys.readouterr().err
    assert main(args) == 2
    assert main(args + ["--expert", "nobody"]) == 2
