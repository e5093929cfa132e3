"""Router: embeddings + logistic regression that picks the expert for a question. Entry points:
run_router (train, report) and route (ask)."""
from synth.router.stage import load_router, route, run_router

__all__ = ["load_router", "route", "run_router"]
