"""Train: LoRA adapters per expert with TRL + PEFT from the packed parquet and the exported
config/trl.yaml; the tiny random model of the base architecture on a CPU. Entry point: run_train."""
from synth.train.stage import TrainOptions, run_train, train_expert

__all__ = ["TrainOptions", "run_train", "train_expert"]
