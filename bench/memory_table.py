"""The memory model's plan for five chat architectures on every GPU of its table (the README's
table): micro-batch rows of 4096 packed tokens, gradient checkpointing, predicted peak and
headroom, for `synth train` (TRL 1.16 + PEFT, fused LM head), LoRA r=16 on 7 projections,
dropout 0.05. The config.json of each architecture is the one tests/builders/model_configs.py
holds (as published; parameter counts checked against the published ones in the tests).

    python bench/memory_table.py [--seq-len 4096]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "builders")]

from model_configs import ARCHITECTURES

from synth.errors import ConfigError
from synth.export.basemodel import normalise_config
from synth.export.memory import GPUS_GIB, ModelShape, plan

GPUS = ("H100-80GB", "H200", "A100-80GB", "A100-40GB", "L40S", "A10G")


def cell(shape: ModelShape, gpu: str, seq_len: int) -> str:
    try:
        p = plan(shape, gpu, seq_len, 16, 0.05, trainer="trl")
    except ConfigError:
        return "does not fit"
    ckpt = ", ckpt" if p.gradient_checkpointing else ""
    return f"{p.micro_batch_rows} row(s){ckpt}; {p.predicted_peak_gib:.1f} GiB, {p.headroom_gib:.1f} free"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seq-len", type=int, default=4096)
    seq_len = parser.parse_args().seq_len
    print("| model (params) | " + " | ".join(f"{g} ({GPUS_GIB[g]} GiB)" for g in GPUS) + " |")
    print("|---" * (len(GPUS) + 1) + "|")
    for name, (config, _) in ARCHITECTURES.items():
        shape = ModelShape.from_config(normalise_config(config), name)
        print(f"| {name} ({shape.params / 1e9:.2f}B) | "
              + " | ".join(cell(shape, g, seq_len) for g in GPUS) + " |")


if __name__ == "__main__":
    main()
