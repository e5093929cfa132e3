"""The run directory: everything a run made, plus the effective config.

Layout (relative to run_dir):
  config.yaml              effective config (no secrets: only env var names)
  segments.jsonl           ingest: usable Segment records
  quarantine.jsonl         ingest: QuarantinedRecord
  pairs.jsonl              generate: Pair (appended as calls complete)
  failures.jsonl           generate: GenerationFailure
  generations.jsonl        generate: GenerationSet, one per set of pairs (model swaps)
  calls.sqlite             every LLM call (request hash, model, tokens, latency, status)
  spend.sqlite             budget ledger (reservations and settled spend), survives restarts
  cache/                   diskcache of LLM responses
  judgments.sqlite         judge verdicts keyed by pair id, rubric hash, judge model (+history)
  curated/                 curate outputs (train/val pairs, excluded.jsonl, report)
  export/                  per-expert datasets, manifest, cards, training configs, serving
  reports/                 audit, distribution, judge, validation, router, run report (HTML)
  review/                  review sample and decisions
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from synth.config import RunConfig, dump_config
from synth.files import atomic_write_text

T = TypeVar("T", bound=BaseModel)


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def ensure(self, *parts: str) -> Path:
        p = self.path(*parts)
        p.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def segments(self) -> Path:
        return self.path("segments.jsonl")

    @property
    def quarantine(self) -> Path:
        return self.path("quarantine.jsonl")

    @property
    def pairs(self) -> Path:
        return self.path("pairs.jsonl")

    @property
    def failures(self) -> Path:
        return self.path("failures.jsonl")

    @property
    def generations(self) -> Path:
        return self.path("generations.jsonl")

    @property
    def calls_db(self) -> Path:
        return self.path("calls.sqlite")

    @property
    def spend_db(self) -> Path:
        return self.path("spend.sqlite")

    @property
    def cache_dir(self) -> Path:
        return self.path("cache")

    @property
    def judgments_db(self) -> Path:
        return self.path("judgments.sqlite")

    @property
    def judged(self) -> Path:
        return self.path("judged.jsonl")

    @property
    def curated_dir(self) -> Path:
        return self.path("curated")

    def curated(self, name: str) -> Path:
        """curated/<name>.jsonl: train, val or excluded."""
        return self.path("curated", f"{name}.jsonl")

    @property
    def curate_summary(self) -> Path:
        return self.path("curated", "summary.json")

    @property
    def review_decisions(self) -> Path:
        return self.path("review", "decisions.jsonl")

    @property
    def export_dir(self) -> Path:
        return self.path("export")

    @property
    def manifest(self) -> Path:
        return self.path("export", "manifest.json")

    @property
    def router_dir(self) -> Path:
        return self.path("router")

    @property
    def router_metrics(self) -> Path:
        return self.path("router", "metrics.json")

    @property
    def reports(self) -> Path:
        return self.ensure("reports")

    def report(self, name: str) -> Path:
        """reports/<name>: every stage's page (audit.html, judge.html, validation.json, ...)."""
        return self.reports / name

    def save_config(self, config: RunConfig) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(self.path("config.yaml"), dump_config(config))


def open_run(config: RunConfig) -> RunDir:
    """The run dir of a config, created, with the effective config saved in it."""
    run = RunDir(config.run_dir)
    run.save_config(config)
    return run


