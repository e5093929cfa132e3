"""Export: chat-template rendering, assistant masks, packing, TRL/LitGPT/messages formats,
training configs sized by the memory model, cards and vLLM serving. Entry point: run_export."""
from synth.export.manifest import exported_experts
from synth.export.stage import run_export

__all__ = ["exported_experts", "run_export"]
