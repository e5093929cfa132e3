"""Generate: style-conditioned questions for each segment through the LLM seam -> Pairs
(pairs.jsonl) and failures (failures.jsonl), one generation set per generator config
(generations.jsonl). Entry point: run_generate."""
from synth.generate.estimate import caps
from synth.generate.sets import load_sets
from synth.generate.stage import GenerateSummary, run_generate

__all__ = ["GenerateSummary", "caps", "load_sets", "run_generate"]
