"""The model `synth train` trains: the real base model on a GPU, or on a CPU (and in CI) a tiny
random model of the same architecture (config.json with 2 layers of width 32), the tokenizer
with the pad token the exported config sets, and the attention kernel that is available.

The tiny model's weights are drawn with the base model's initializer_range scaled by
sqrt(real width / 32), so its initial logits spread as the real model's do: at the real 0.02 a
width-32 model's logits stay within about +-0.6 (final norm and lm_head are frozen under LoRA)
and no learning rate moves its loss by more than that. The base model on a CPU is loaded in
float32 whatever dtype the exported model_init_kwargs name (there is no bf16 autocast on a CPU:
bf16=False would train bf16 weights in bf16)."""

from __future__ import annotations

import importlib.util
import math
from typing import Any

from synth.export.basemodel import BaseModelSource
from synth.export.chatrules import pad_token_for

TINY = {"num_hidden_layers": 2, "hidden_size": 32, "intermediate_size": 64,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8}
# config.json keys sized by the layer count or tied to the real width, rebuilt by transformers
DROPPED = ("layer_types", "max_window_layers", "architectures", "torch_dtype", "dtype",
           "transformers_version", "_name_or_path", "auto_map", "quantization_config")


def tokenizer_with_pad(source: str, pad_token: str | None = None) -> Any:
    """The target tokenizer (synth.tokenizer.load_tokenizer) with the pad token the exported
    config sets (or the rule's); TrainFailed when it cannot be loaded."""
    from synth.errors import TrainFailed
    from synth.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(source, error=TrainFailed)
    pad = pad_token or pad_token_for(tokenizer)
    if pad:
        tokenizer.pad_token = pad
    return tokenizer


def tiny_config(config: dict[str, Any], tokenizer: Any) -> Any:
    """config.json of the base model shrunk to 2 layers of width 32, vocabulary = tokenizer's."""
    from transformers import AutoConfig

    values = {k: v for k, v in config.items() if k not in DROPPED and k != "model_type"}
    values.update(TINY, vocab_size=len(tokenizer), use_cache=False,
                  pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                  bos_token_id=tokenizer.bos_token_id)
    values["max_position_embeddings"] = max(8192, int(values.get("max_position_embeddings") or 0))
    text = config.get("text_config") or config
    width = int(text.get("hidden_size") or TINY["hidden_size"])
    values["initializer_range"] = (float(text.get("initializer_range") or 0.02)
                                   * math.sqrt(max(width, TINY["hidden_size"]) / TINY["hidden_size"]))
    return AutoConfig.for_model(config["model_type"], **values)


def tiny_model(model: BaseModelSource, tokenizer: Any, seed: int = 0) -> Any:
    """A random tiny model of the base model's architecture (same seed, same weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_config(model.config, tokenizer))


def attention_kernel(requested: str | None) -> str | None:
    """flash_attention_2 when installed, else transformers' default for the family (SDPA, or
    eager for Gemma 2); padding-free rows still keep examples apart: transformers builds the
    block mask from position_ids."""
    if requested == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        return None
    return requested


def real_model(model: BaseModelSource, init_kwargs: dict[str, Any] | None, cuda: bool = True) -> Any:
    """The base model's weights (hub id or folder) with the exported model_init_kwargs; on a
    CPU (cuda False) in float32."""
    import torch
    from transformers import AutoModelForCausalLM

    from synth.errors import TrainFailed

    kwargs = dict(init_kwargs or {})
    kwargs["attn_implementation"] = attention_kernel(kwargs.get("attn_implementation"))
    if kwargs["attn_implementation"] is None:
        del kwargs["attn_implementation"]
    if not cuda:
        kwargs["dtype"] = torch.float32
    elif isinstance(kwargs.get("dtype"), str):
        kwargs["dtype"] = getattr(torch, kwargs["dtype"])
    try:
        return AutoModelForCausalLM.from_pretrained(model.serve_id, **kwargs)
    except (OSError, ValueError) as exc:
        raise TrainFailed(f"cannot load the base model {model.serve_id!r}: {exc}. Download it "
                          "(or set export.base_model to a local folder with its weights), or "
                          "train the tiny CPU model with --tiny") from None
