"""The saved adapter: servable by vLLM's LoRA loader, and loadable into PEFT as trained.

vLLM (vllm/lora/peft_helper.py) serves plain LoRA only: `adapter_config.json` with r,
lora_alpha and target_modules, peft_type LORA, no DoRA, no modules_to_save, no embedding or
lm_head targets, and safetensors weights holding lora_A/lora_B tensors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORBIDDEN_TARGETS = ("embed", "lm_head")
RELOAD_TOLERANCE = 1e-4


def adapter_problems(adapter_dir: Path) -> list[str]:
    """Why vLLM would refuse this adapter (empty when it can serve it)."""
    config_path = adapter_dir / "adapter_config.json"
    if not config_path.exists():
        return [f"{config_path} missing"]
    config = json.loads(config_path.read_text(encoding="utf-8"))
    problems = [f"{key} missing" for key in ("r", "lora_alpha", "target_modules") if not config.get(key)]
    if config.get("peft_type") != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}, not LORA")
    if config.get("use_dora"):
        problems.append("use_dora is true (vLLM rejects DoRA)")
    if config.get("modules_to_save"):
        problems.append(f"modules_to_save is {config['modules_to_save']} (vLLM rejects it)")
    targets = config.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else targets
    problems += [f"target {t!r} is an embedding/lm_head" for t in targets
                 if any(f in t for f in FORBIDDEN_TARGETS)]
    return problems + _weight_problems(adapter_dir)


def _weight_problems(adapter_dir: Path) -> list[str]:
    from safetensors import safe_open

    weights = adapter_dir / "adapter_model.safetensors"
    if not weights.exists():
        return [f"{weights} missing"]
    with safe_open(str(weights), framework="pt") as handle:
        keys = list(handle.keys())
    bad = [k for k in keys if any(f in k for f in FORBIDDEN_TARGETS)]
    problems = [f"weights hold {len(bad)} embedding/lm_head tensor(s), e.g. {bad[0]}"] if bad else []
    return problems + ([] if any("lora_B" in k for k in keys) else ["no lora_B tensors saved"])


def reload_difference(trained: Any, fresh_base: Any, adapter_dir: Path, batch: dict[str, Any]) -> float:
    """Largest |logit| difference between the trained model and `fresh_base` with the saved
    adapter loaded by PEFT, on one batch (0 up to float noise when the adapter is complete)."""
    import torch
    from peft import PeftModel

    inputs = {k: batch[k] for k in ("input_ids", "position_ids") if k in batch}
    reloaded = PeftModel.from_pretrained(fresh_base, str(adapter_dir))
    device = next(trained.parameters()).device
    reloaded.to(device)
    trained.eval()
    reloaded.eval()
    with torch.no_grad():
        inputs = {k: v.to(device) for k, v in inputs.items()}
        expected = trained(**inputs, use_cache=False).logits.float()
        got = reloaded(**inputs, use_cache=False).logits.float()
    return float((expected - got).abs().max())


def lora_b_moved(before: dict[str, Any], model: Any) -> tuple[int, int]:
    """(lora_B tensors that changed, lora_B tensors) since `before` (named copies)."""
    import torch

    moved = sum(not torch.equal(before[n], p.detach()) for n, p in model.named_parameters()
                if n in before)
    return moved, len(before)
