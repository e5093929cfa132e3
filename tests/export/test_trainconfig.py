"""Training configs (PEFT/TRL, LitGPT), their sizing by the memory model and the vLLM serving
command (the memory model itself: test_memory.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import warnings
from pathlib import Path

import pytest
import yaml
from pairs_fixture import REPO, corpus, run_config, tiny_tokenizer

from synth.config import ExportConfig
from synth.curate.stage import load_curated, run_curate
from synth.experts import load_experts
from synth.export.basemodel import resolve_base_model
from synth.export.litgpt import (
    lightning_command,
    litgpt_config,
    litgpt_forces_bos,
    litgpt_model,
)
from synth.export.stage import run_export
from synth.export.trainconfig import (
    DataStats,
    serve_script,
    trl_config,
    vllm_max_lora_rank,
    warmup_steps,
)
from synth.rundir import RunDir

EXPERTS = load_experts(REPO / "configs" / "experts.yaml")
STATS = DataStats(
    train_examples=2400, val_examples=400, mean_tokens=520.0, max_tokens=1900, train_rows=330
)
MODELS = {alias: resolve_base_model(alias, Path) for alias in ("qwen3", "llama3_1")}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("configs")
    config = run_config(tmp, tiny_tokenizer(tmp / "tiny"))
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=10))
    run_export(config, run, load_curated(run))
    return run.path("export")


@pytest.mark.parametrize("expert", [e.name for e in EXPERTS.experts])
def test_litgpt_yaml_has_the_expected_keys(written, expert):
    config = yaml.safe_load((written / expert / "config" / "litgpt_lora.yaml").read_text())
    assert config["precision"] == "bf16-true" and config["checkpoint_dir"].startswith(
        "checkpoints/"
    )
    data = config["data"]
    assert data["class_path"] == "litgpt.data.JSON"
    args = data["init_args"]
    assert args["mask_prompt"] is True and args["prompt_style"] in ("qwen3", "llama3")
    assert "val_split_fraction" not in args  # a folder fixes the split (the key raises with one)
    assert (written / args["json_path"] / "train.jsonl").exists() and (
        written / args["json_path"] / "val.jsonl"
    ).exists()
    train = config["train"]
    assert (
        train["lr_warmup_steps"] >= 1
        and train["global_batch_size"] % train["micro_batch_size"] == 0
    )
    n_train = len((written / args["json_path"] / "train.jsonl").read_text().splitlines())
    accumulation = train["global_batch_size"] // train["micro_batch_size"]
    steps = (
        train["epochs"] * -(-n_train // train["micro_batch_size"]) // accumulation
    )  # as LitGPT counts
    assert steps > train["lr_warmup_steps"]  # else LitGPT's cosine schedule divides by zero
    assert config["eval"]["max_new_tokens"] > 0
    assert config["optimizer"]["init_args"]["lr"] == EXPERTS.get(expert).training.learning_rate
    assert config["lora_r"] == EXPERTS.get(expert).training.lora_r and config["lora_head"] is False


@pytest.mark.litgpt
@pytest.mark.slow
def test_litgpt_itself_accepts_the_config(written):
    """LitGPT's own CLI parser (jsonargparse) validates every key and type of the file."""
    from synth.validate.litgpt_venv import ensure_venv

    litgpt = ensure_venv(REPO / ".venv-litgpt").parent / "litgpt"
    config = Path("therapeutic") / "config" / "litgpt_lora.yaml"
    done = subprocess.run([str(litgpt), "finetune_lora", "--config", str(config), "--print_config"],
                          cwd=written, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = yaml.safe_load(done.stdout)
    assert printed["data"]["init_args"]["json_path"] == "therapeutic/litgpt"
    assert printed["precision"] == "bf16-true" and printed["train"]["lr_warmup_steps"] >= 1


@pytest.mark.parametrize("expert", [e.name for e in EXPERTS.experts])
def test_trl_yaml_is_valid_and_builds_real_configs(written, expert):
    config = yaml.safe_load((written / expert / "config" / "trl.yaml").read_text())
    assert set(config) >= {"base_model", "data_files", "jsonl_files", "jsonl_sft", "lora", "sft", "memory"}
    assert all((written / path).exists() for path in config["data_files"].values())
    assert config["data_files"]["train"] == f"{expert}/packed/train.parquet"
    assert all((written / path).exists() for path in config["jsonl_files"].values())
    lora, sft = config["lora"], config["sft"]
    assert (
        lora["lora_alpha"] == 2 * lora["r"]
        and lora["use_dora"] is False
        and lora["modules_to_save"] is None
    )
    # rows are packed by synth: no packing, no max_length, no dataset preparation in TRL
    assert sft["packing"] is False and sft["padding_free"] is True and sft["max_length"] is None
    assert sft["dataset_kwargs"] == {"skip_prepare_dataset": True}
    assert config["jsonl_sft"]["packing"] is True and config["jsonl_sft"]["packing_strategy"] == "bfd"
    assert sft["learning_rate"] == EXPERTS.get(expert).training.learning_rate
    if importlib.util.find_spec("trl") is None or importlib.util.find_spec("peft") is None:
        pytest.skip("train extra not installed")
    from peft import LoraConfig
    from trl import SFTConfig

    assert LoraConfig(**lora).target_modules == set(lora["target_modules"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated key (activation_checkpointing)
        built = SFTConfig(**{**sft, "output_dir": str(written / "out"), "bf16": False, "use_cpu": True})
        jsonl = SFTConfig(**{**sft, **config["jsonl_sft"], "output_dir": str(written / "out"),
                             "bf16": False, "use_cpu": True})
    assert built.per_device_train_batch_size == sft["per_device_train_batch_size"]
    assert built.activation_checkpointing is sft["activation_checkpointing"]
    assert jsonl.max_length == config["jsonl_sft"]["max_length"] and jsonl.packing


def test_learning_rate_follows_communication_style():
    cfg = ExportConfig(base_model="qwen3", max_seq_len=4096)
    lrs = {e.name: trl_config(e, STATS, cfg, MODELS["qwen3"], None, 0)["sft"]["learning_rate"]
           for e in EXPERTS.experts}
    assert lrs["educational"] > lrs["empathetic"] and lrs["practical"] > lrs["therapeutic"]


def test_batch_schedule_from_memory_model():
    expert = EXPERTS.get("therapeutic")
    for base in ("qwen3", "llama3_1"):
        cfg = ExportConfig(base_model=base, max_seq_len=4096)
        sft = trl_config(expert, STATS, cfg, MODELS[base], None, 0)["sft"]
        assert sft["per_device_train_batch_size"] >= 1 and sft["activation_checkpointing"] is False
        examples_per_step = (
            sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * 4096 / 520
        )
        assert 8 <= examples_per_step <= 32
        long_rows = trl_config(expert, STATS, ExportConfig(base_model=base, max_seq_len=16384),
                               MODELS[base], None, 0)
        assert long_rows["memory"]["gradient_checkpointing"] is True  # 16k tokens only fit with it
    model = MODELS["qwen3"]
    litgpt = litgpt_config(expert, STATS, ExportConfig(base_model="qwen3", max_seq_len=4096), model,
                           litgpt_model(model), 0)
    assert (
        litgpt["train"]["micro_batch_size"] >= 2
        and litgpt["train"]["max_seq_length"] >= STATS.max_tokens
    )


def test_warmup_is_at_least_one_and_below_total():
    for total in range(2, 600):
        assert 1 <= warmup_steps(total) < total


def test_serving_command_ranks_and_modules():
    assert vllm_max_lora_rank([16, 8]) == 16 and vllm_max_lora_rank([24]) == 32
    script = serve_script(EXPERTS.experts, ExportConfig(base_model="llama3_1"), MODELS["llama3_1"], {})
    assert (
        "vllm serve meta-llama/Llama-3.1-8B-Instruct" in script and "enable_thinking" not in script
    )
    assert (
        script.count('="$ADAPTERS/') == 4
        and "--max-loras 4" in script
        and "--max-lora-rank 16" in script
    )
    qwen = serve_script(EXPERTS.experts, ExportConfig(), MODELS["qwen3"], {"enable_thinking": False})
    assert '"chat_template_kwargs": {"enable_thinking": false}' in qwen


def test_lightning_studio_command_and_litgpt_checkpoint(written):
    """One line per expert, LitGPT's pinned version, the checkpoint LitGPT downloads; Llama 3.1
    goes to a folder LitGPT does not add a second BOS for."""
    script = (written / "therapeutic" / "config" / "litgpt.sh").read_text()
    line = script.strip().splitlines()[-1]
    assert line.startswith("pip install -q litgpt==0.5.13 ") and "litgpt download Qwen/Qwen3-8B" in line
    assert line.endswith("litgpt finetune_lora --config therapeutic/config/litgpt_lora.yaml")
    config = yaml.safe_load((written / "therapeutic" / "config" / "litgpt_lora.yaml").read_text())
    assert config["checkpoint_dir"] == "checkpoints/Qwen/Qwen3-8B"
    card = (written / "therapeutic" / "README.md").read_text()
    assert "LitGPT 0.5.13" in card and "`litgpt download Qwen/Qwen3-8B`" in card
    llama = litgpt_model(MODELS["llama3_1"])
    assert llama.repo_id == "meta-llama/Meta-Llama-3.1-8B-Instruct" and llama.prompt_style == "llama3"
    assert llama.renamed and not llama.checkpoint_dir.split("/")[-1].startswith(("Llama-3", "Meta-Llama-3"))
    assert litgpt_forces_bos("Meta-Llama-3.1-8B-Instruct") and not litgpt_forces_bos("base-Meta-Llama-3.1-8B-Instruct")
    assert (f"mv checkpoints/{llama.repo_id} {llama.checkpoint_dir}"
            in lightning_command(llama, "practical"))
