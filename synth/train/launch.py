"""The `accelerate launch` command that runs the same `synth train` on several GPUs (DDP):
each process trains on its share of the packed rows and the gradient accumulation is divided
by the number of processes (synth.train.trainer), so the effective batch stays the exported one."""

from __future__ import annotations

import importlib.util
import shlex

TRAIN_EXTRA = ("torch", "peft", "trl", "datasets", "accelerate", "safetensors")


def accelerate_command(config_path: str, expert: str, gpus: str = "<GPUs>") -> str:
    return ("accelerate launch --multi_gpu --num_processes " + gpus + " --mixed_precision bf16 "
            '"$(command -v synth)" train ' + shlex.quote(config_path) + " --expert "
            + shlex.quote(expert))


def training_extra_missing() -> str:
    """The first missing module of the train extra, or '' when all are installed."""
    return next((m for m in TRAIN_EXTRA if importlib.util.find_spec(m) is None), "")
