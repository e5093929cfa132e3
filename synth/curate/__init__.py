"""Curate: accept rule, per-expert thresholds, review decisions, dedup, quotas and the grouped
train/val split -> CuratedPairs and ExcludedPairs with named reasons. Entry point: run_curate."""
from synth.curate.stage import load_curated, run_curate

__all__ = ["load_curated", "run_curate"]
