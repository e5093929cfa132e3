"""Validate: load each expert's export into TRL+PEFT and LitGPT, run LoRA steps, check the
adapter is servable and the voice is the speaker's. Entry point: run_validate."""
from synth.validate.stage import run_validate, training_extra_missing

__all__ = ["run_validate", "training_extra_missing"]
