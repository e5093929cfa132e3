"""The memory model reads any architecture from its config.json: parameter counts of five real
architectures against their published counts, plans on every GPU of the table."""

from __future__ import annotations

import pytest
from model_configs import ARCHITECTURES, GEMMA_2_9B

from synth.errors import ConfigError
from synth.export.basemodel import normalise_config
from synth.export.memory import (
    GPUS_GIB,
    ModelShape,
    activation_bytes_per_token_layer,
    head_bytes_per_token,
    plan,
)


def shape(name: str) -> ModelShape:
    config, _ = ARCHITECTURES[name]
    return ModelShape.from_config(normalise_config(config), name)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_parameter_count_equals_the_published_count(name):
    assert shape(name).params == ARCHITECTURES[name][1]


def test_family_defaults_come_from_transformers():
    """Gemma-2's config.json leaves tie_word_embeddings out; transformers ties them."""
    raw = ModelShape.from_config(GEMMA_2_9B, "raw")
    assert not raw.tied and raw.params != ARCHITECTURES["Gemma-2-9B"][1]
    assert shape("Gemma-2-9B").tied


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_plans_on_every_gpu_are_consistent(name):
    model = shape(name)
    for gpu, gib in GPUS_GIB.items():
        try:
            result = plan(model, gpu, 4096, 16, 0.05)
        except ConfigError as exc:
            assert "does not fit" in str(exc) and gib < 30  # only the 24 GB cards refuse
            continue
        assert result.micro_batch_rows >= 1 and result.predicted_peak_gib <= gib
        assert result.headroom_gib == pytest.approx(gib - result.predicted_peak_gib, abs=0.02)
        if result.gradient_checkpointing:  # only when one row does not fit without it
            with pytest.raises(ConfigError):
                plan(model, gpu, 4096, 16, 0.05, checkpointing=False)


def test_memory_model_shape_and_anchor():
    qwen = shape("Qwen3-8B")
    small = plan(qwen, "H100-80GB", 1024, 16, 0.05)
    big = plan(qwen, "H100-80GB", 2048, 16, 0.05)
    assert small.micro_batch_rows > big.micro_batch_rows >= 1
    assert plan(qwen, "H200", 2048, 16, 0.05).micro_batch_rows > big.micro_batch_rows
    assert plan(qwen, "H100-80GB", 2048, 16, 0.0).tokens_per_micro_batch > big.tokens_per_micro_batch
    llama = shape("Llama-3.1-8B")
    # reference.md: ~25-40k tokens with checkpointing on 80 GB with full logits; TRL 1.16's fused
    # LM head never holds the [T, V] logits, so far more fit
    ckpt = {t: plan(llama, "H100-80GB", 4096, 16, 0.05, checkpointing=True, trainer=t)
            for t in ("trl", "litgpt")}
    assert 25e3 <= ckpt["litgpt"].tokens_per_micro_batch <= 50e3
    assert 2 * ckpt["litgpt"].tokens_per_micro_batch < ckpt["trl"].tokens_per_micro_batch <= 120e3
    # LitGPT's resource table: Llama-2-7B, A100-40GB, 1,304-token rows, q/v LoRA: 21.3 GB
    llama2 = ModelShape("Llama-2-7B", 32, 4096, 11008, 32, 32, 128, 32000, model_type="llama")
    assert llama2.params == 6_738_415_616
    per_layer = activation_bytes_per_token_layer(llama2, 0.05, ("q_proj", "v_proj"), trainer="litgpt")
    estimate = (2 * llama2.params + 1304 * (32 * per_layer + head_bytes_per_token(llama2, "litgpt"))) / 2**30
    assert 21.3 <= estimate <= 21.3 * 1.25
    with pytest.raises(ConfigError, match="export.gpu"):
        plan(qwen, "TPU-v9", 4096, 16, 0.05)
    with pytest.raises(ConfigError, match="does not fit"):
        plan(qwen, "A10G", 4096, 16, 0.05)


def test_fused_head_costs_less_per_token_than_full_logits():
    qwen = shape("Qwen3-8B")
    assert head_bytes_per_token(qwen, "trl") < head_bytes_per_token(qwen, "litgpt") / 50


def test_missing_field_names_the_file():
    with pytest.raises(ConfigError, match="config.json lacks integer field.*hidden_size"):
        ModelShape.from_config({"num_hidden_layers": 2, "model_type": "x"}, "x", "config.json")
