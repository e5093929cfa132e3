"""Generate: style-conditioned questions for each segment through the LLM seam -> Pairs
(pairs.jsonl) and failures (failures.jsonl). Entry point: run_generate."""
from synth.generate.stage import GenerateSummary, run_generate

__all__ = ["GenerateSummary", "run_generate"]
