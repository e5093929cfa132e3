"""Review: a seeded sample of judged pairs per expert, accepted or rejected by a person on a local
page or in a CSV; curation honours the decisions. Entry point: run_review."""
from synth.review.session import ReviewSession, open_review
from synth.review.stage import run_review

__all__ = ["ReviewSession", "open_review", "run_review"]
