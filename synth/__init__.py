"""synth: transcript segments to LoRA training data for a mixture of style experts."""
__version__ = "0.1.0"
