"""Training configs (PEFT/TRL, LitGPT), the GPU memory model and the vLLM serving command."""

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
from synth.errors import ConfigError
from synth.experts import load_experts
from synth.export.memory import SHAPES, ModelShape, activation_bytes_per_token_layer, plan
from synth.export.stage import run_export
from synth.export.trainconfig import (
    DataStats,
    litgpt_config,
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
    assert set(config) >= {"base_model", "data_files", "lora", "sft", "memory"}
    assert all((written / path).exists() for path in config["data_files"].values())
    lora, sft = config["lora"], config["sft"]
    assert (
        lora["lora_alpha"] == 2 * lora["r"]
        and lora["use_dora"] is False
        and lora["modules_to_save"] is None
    )
    assert sft["packing"] is True and sft["packing_strategy"] == "bfd"
    assert sft["learning_rate"] == EXPERTS.get(expert).training.learning_rate
    if importlib.util.find_spec("trl") is None or importlib.util.find_spec("peft") is None:
        pytest.skip("train extra not installed")
    from peft import LoraConfig
    from trl import SFTConfig

    assert LoraConfig(**lora).target_modules == set(lora["target_modules"])
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # gradient_checkpointing is a deprecated alias in transformers 5.24
        built = SFTConfig(
            **{**sft, "output_dir": str(written / "out"), "bf16": False, "use_cpu": True}
        )
    assert built.per_device_train_batch_size == sft["per_device_train_batch_size"]
    assert built.max_length == sft["max_length"]


@pytest.mark.train
def test_trl_config_trains_one_packed_step(written, tmp_path):
    """The generated SFTConfig (bfd packing, padding-free, completion-only loss) on a random
    2-layer Qwen3 model: packed rows restart positions, prompts are masked, the loss is finite."""
    if importlib.util.find_spec("trl") is None:
        pytest.skip("train extra not installed")
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM
    from trl import SFTConfig, SFTTrainer

    config = yaml.safe_load((written / "practical" / "config" / "trl.yaml").read_text())
    files = {k: str(written / v) for k, v in config["data_files"].items()}
    data = load_dataset("json", data_files=files, cache_dir=str(tmp_path / "hf"))
    tokenizer = AutoTokenizer.from_pretrained(str(written.parents[1] / "tiny"))
    shape = Qwen3Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        head_dim=8, use_cache=False, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    sft = {**config["sft"], "output_dir": str(tmp_path / "out"), "use_cpu": True, "bf16": False,
           "max_steps": 1, "model_init_kwargs": None, "save_strategy": "no", "eval_strategy": "no",
           "load_best_model_at_end": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = SFTTrainer(model=Qwen3ForCausalLM(shape), args=SFTConfig(**sft),
                             train_dataset=data["train"], processing_class=tokenizer,
                             peft_config=LoraConfig(**config["lora"]))
        batch = next(iter(trainer.get_train_dataloader()))
        result = trainer.train()
    assert batch["input_ids"].shape[0] == 1  # padding-free: one packed row
    starts = (batch["position_ids"][0] == 0).nonzero().flatten()
    assert len(starts) > 1 and (batch["labels"][0][starts] == -100).all()
    assert 0 < (batch["labels"] == -100).sum() < batch["labels"].numel()
    assert torch.isfinite(torch.tensor(result.training_loss))


def test_learning_rate_follows_communication_style():
    cfg = ExportConfig(base_model="qwen3", max_seq_len=4096)
    lrs = {
        e.name: trl_config(e, STATS, cfg, None, 0)["sft"]["learning_rate"] for e in EXPERTS.experts
    }
    assert lrs["educational"] > lrs["empathetic"] and lrs["practical"] > lrs["therapeutic"]


def test_batch_schedule_from_memory_model():
    expert = EXPERTS.get("therapeutic")
    for base in ("qwen3", "llama3_1"):
        sft = trl_config(expert, STATS, ExportConfig(base_model=base, max_seq_len=4096), None, 0)[
            "sft"
        ]
        assert sft["per_device_train_batch_size"] >= 1 and sft["gradient_checkpointing"] is False
        examples_per_step = (
            sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"] * 4096 / 520
        )
        assert 8 <= examples_per_step <= 32
        long_rows = trl_config(
            expert, STATS, ExportConfig(base_model=base, max_seq_len=16384), None, 0
        )
        assert long_rows["memory"]["gradient_checkpointing"] is True  # 16k tokens only fit with it
    litgpt = litgpt_config(expert, STATS, ExportConfig(base_model="qwen3", max_seq_len=4096), 0)
    assert (
        litgpt["train"]["micro_batch_size"] >= 2
        and litgpt["train"]["max_seq_length"] >= STATS.max_tokens
    )


def test_memory_model_shape_and_anchor():
    small = plan("qwen3", "H100-80GB", 1024, 16, 0.05)
    big = plan("qwen3", "H100-80GB", 4096, 16, 0.05)
    assert small.micro_batch_rows > big.micro_batch_rows >= 1
    assert plan("qwen3", "H200", 4096, 16, 0.05).micro_batch_rows > big.micro_batch_rows
    assert (
        plan("qwen3", "H100-80GB", 4096, 16, 0.0).tokens_per_micro_batch
        > big.tokens_per_micro_batch
    )
    assert (
        20e3
        <= plan("llama3_1", "H100-80GB", 4096, 16, 0.05, checkpointing=True).tokens_per_micro_batch
        <= 40e3
    )
    llama2 = ModelShape(
        "Llama-2-7B", 6.74e9, 32, 4096, 11008, 32, 32, 128, 32000
    )  # LitGPT resource table
    per_layer = activation_bytes_per_token_layer(llama2, 0.05, ("q_proj", "v_proj"))
    estimate = (2 * llama2.params + 1304 * (32 * per_layer + 14 * 32000)) / 2**30
    assert 21.3 <= estimate <= 21.3 * 1.25
    with pytest.raises(ConfigError, match="export.gpu"):
        plan("qwen3", "TPU-v9", 4096, 16, 0.05)
    with pytest.raises(ConfigError, match="does not fit"):
        plan("qwen3", "A10G", 4096, 16, 0.05)
    assert set(SHAPES) == {"qwen3", "llama3_1"}


def test_warmup_is_at_least_one_and_below_total():
    for total in range(2, 600):
        assert 1 <= warmup_steps(total) < total


def test_serving_command_ranks_and_modules():
    assert vllm_max_lora_rank([16, 8]) == 16 and vllm_max_lora_rank([24]) == 32
    script = serve_script(EXPERTS.experts, ExportConfig(base_model="llama3_1"))
    assert (
        "vllm serve meta-llama/Llama-3.1-8B-Instruct" in script and "enable_thinking" not in script
    )
    assert (
        script.count('="$ADAPTERS/') == 4
        and "--max-loras 4" in script
        and "--max-lora-rank 16" in script
    )
