"""`synth train`'s CPU path on the tiny random model: does the loss fall, and how far?

Builds the one-row export tests/train/test_learning.py trains (made-up pairs from
tests/builders/pairs_fixture.py, a 400-token BPE tokenizer, the practical expert: one packed row)
and trains it twice through synth.train.run_train, 30 steps each: with the exported
config/trl.yaml as written (learning rate 2e-4), and with learning rate 3e-2, batch 1 (the
overfit test's settings). Prints the train loss at the first and last step and the wall time.

    .venv/bin/python bench/train_tiny.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "builders")]

import yaml  # noqa: E402
from pairs_fixture import corpus, run_config, tiny_tokenizer  # noqa: E402

from synth.curate.stage import load_curated, run_curate  # noqa: E402
from synth.export.stage import run_export  # noqa: E402
from synth.rundir import RunDir  # noqa: E402
from synth.train import TrainOptions, run_train  # noqa: E402

STEPS = 30


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = run_config(Path(tmp), tiny_tokenizer(Path(tmp) / "tiny"), base="qwen3")
        run = RunDir(config.run_dir)
        run_curate(config, run, corpus(per_expert=2))
        run_export(config, run, load_curated(run))
        path = run.path("export", "practical", "config", "trl.yaml")
        exported = yaml.safe_load(path.read_text())
        high = {"learning_rate": 3e-2, "per_device_train_batch_size": 1, "gradient_accumulation_steps": 1}
        print(f"{'settings':<40} {'steps':>5} {'first loss':>10} {'last loss':>10} {'seconds':>8}")
        for name, change in (("exported config/trl.yaml", {}), ("lr 3e-2, batch 1 (overfit test)", high)):
            data = yaml.safe_load(yaml.safe_dump(exported))
            data["sft"].update(change)
            path.write_text(yaml.safe_dump(data))
            started = time.perf_counter()
            result = run_train(config, run, ["practical"],
                               TrainOptions(max_steps=STEPS, evaluate=False, report=False), lambda _: None)[0]
            seconds = time.perf_counter() - started
            print(f"{name:<40} {result.steps:>5} {result.train_loss[0][1]:>10.4f} "
                  f"{result.train_loss[-1][1]:>10.4f} {seconds:>8.1f}")


if __name__ == "__main__":
    main()
