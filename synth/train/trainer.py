"""TRL's SFTTrainer built from the exported config/trl.yaml, unchanged except where the machine
differs: on a CPU `use_cpu` and fp32 (no bf16); the model is loaded by synth.train.model (with the
exported model_init_kwargs for the base model), so TRL gets none;
checkpoints go to the run's train/<expert>/ folder (the adapter is saved where serve.sh looks);
under a multi-process launch the gradient accumulation is divided by the number of processes
so the effective batch stays the exported one; `max_steps` (smoke runs) evaluates once at the
end instead of per epoch and keeps warmup below a quarter of the steps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from synth.errors import InputError
from synth.records import TrainConfigFile

Log = Callable[[str], None]


def load_train_config(path: Path) -> TrainConfigFile:
    """export/<expert>/config/trl.yaml as a record; InputError names the file and field."""
    if not path.exists():
        raise InputError("training config not found (run synth export first)", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return TrainConfigFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise InputError(f"not YAML: {exc}", file=str(path)) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(error["msg"], file=str(path),
                         field=".".join(str(p) for p in error["loc"])) from None


def world_size() -> int:
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def sft_settings(file: TrainConfigFile, output_dir: Path, *, cuda: bool, has_val: bool,
                 max_steps: int | None = None) -> dict[str, Any]:
    """The SFTConfig kwargs: the exported ones with this machine's differences."""
    sft = dict(file.sft)
    sft.update(output_dir=str(output_dir), disable_tqdm=True)
    if not cuda:
        sft.update(use_cpu=True, bf16=False)
    sft["model_init_kwargs"] = None  # synth.train.model loads the model with them itself
    accumulation = int(sft.get("gradient_accumulation_steps", 1))
    sft["gradient_accumulation_steps"] = max(1, math.ceil(accumulation / world_size()))
    if max_steps:  # a short run: warmup (learning rate 0 on step 1) shrinks with it
        sft.update(max_steps=max_steps, save_strategy="no", load_best_model_at_end=False,
                   eval_strategy="steps" if has_val else "no", eval_steps=max_steps,
                   warmup_steps=min(int(sft.get("warmup_steps", 0)), max_steps // 4))
    if not has_val:
        sft.update(eval_strategy="no", eval_on_start=False, load_best_model_at_end=False)
        sft.pop("metric_for_best_model", None)
    return sft


def build_trainer(file: TrainConfigFile, model: Any, tokenizer: Any, train: Any, val: Any | None,
                  settings: dict[str, Any], callbacks: list[Any]) -> Any:
    """An SFTTrainer on the packed rows (padding-free, no dataset preparation)."""
    import warnings

    from peft import LoraConfig
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        args = SFTConfig(**settings)
        trainer = SFTTrainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                             processing_class=tokenizer, peft_config=LoraConfig(**file.lora),
                             callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)
    return trainer


def progress_callback(log: Log) -> Any:
    """A TrainerCallback that reports each logged step and evaluation through `log`."""
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
            logs = logs or {}
            step = f"step {state.global_step}/{state.max_steps}"
            if "loss" in logs:
                log(f"{step}  loss {float(logs['loss']):.4f}  lr {float(logs.get('learning_rate', 0)):.2e}")
            if "eval_loss" in logs:
                log(f"{step}  val loss {float(logs['eval_loss']):.4f}")

    return _Progress()


def loss_history(log_history: list[dict[str, Any]]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(step, train loss) and (step, val loss) from trainer.state.log_history."""
    train = [(int(h["step"]), float(h["loss"])) for h in log_history if "loss" in h]
    val = [(int(h["step"]), float(h["eval_loss"])) for h in log_history if "eval_loss" in h]
    return train, val
