"""`synth run`: every stage in order on one run directory, resumable.

ingest -> generate -> judge -> curate -> export -> router -> validate -> report

Each stage reads what the previous one wrote into the run dir, so a rerun after a crash or a
budget stop picks up where it left off (cached LLM answers, saved pairs and judgments are not
paid for twice). Stage timings go to run.json in the run dir.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synth.config import RunConfig
from synth.errors import ValidationFailed
from synth.files import atomic_write_text, read_jsonl
from synth.records import JudgedPair, Pair
from synth.rundir import RunDir, open_run

STAGES = ("ingest", "generate", "judge", "curate", "export", "router", "validate", "report")


@dataclass
class StageOutcome:
    name: str
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


@dataclass
class PipelineResult:
    run_dir: str
    stages: list[StageOutcome]

    def to_json(self) -> dict[str, Any]:
        return {"run_dir": self.run_dir, "stages": [vars(s) for s in self.stages]}


def _summary(value: Any) -> dict[str, Any]:
    """A small JSON-able summary of a stage's return value."""
    if value is None:
        return {}
    if hasattr(value, "summary") and callable(value.summary):
        return dict(value.summary())
    if hasattr(value, "model_dump"):
        dumped = value.model_dump(mode="json")
        return {k: v for k, v in dumped.items()
                if isinstance(v, (int, float, str, bool)) or (k == "replicas_out" and v)}
    if isinstance(value, list):
        return {"records": len(value)}
    return {}


def _stage_ingest(config: RunConfig, run: RunDir) -> Any:
    from synth.ingest import run_ingest

    return run_ingest(config, run)


def _stage_generate(config: RunConfig, run: RunDir, retry_failed: bool = False) -> Any:
    from synth.generate import run_generate
    from synth.records import Segment

    return run_generate(config, run, list(read_jsonl(run.segments, Segment)), retry_failed=retry_failed)


def _stage_judge(config: RunConfig, run: RunDir) -> Any:
    from synth.judge import run_judge

    return run_judge(config, run, list(read_jsonl(run.pairs, Pair)))


def _stage_curate(config: RunConfig, run: RunDir) -> Any:
    from synth.curate import run_curate

    return run_curate(config, run, list(read_jsonl(run.judged, JudgedPair)))


def _stage_export(config: RunConfig, run: RunDir) -> Any:
    from synth.curate import load_curated
    from synth.export import run_export

    return run_export(config, run, load_curated(run))


def _stage_router(config: RunConfig, run: RunDir) -> Any:
    from synth.router import run_router

    return run_router(config, run)


def _stage_validate(config: RunConfig, run: RunDir) -> Any:
    from synth.validate import run_validate, training_extra_missing

    missing = training_extra_missing()
    if missing:
        return StageSkip(f"training extra not installed ({missing}): pip install -e '.[train]'")
    return run_validate(config, run)


def _stage_report(config: RunConfig, run: RunDir) -> Any:
    """The run report; with more than one generation set (a model swap), the comparison too."""
    from synth.compare import run_compare
    from synth.generate import load_sets
    from synth.reports.run import write_run_report

    outputs: dict[str, Any] = {}
    if len(load_sets(run)) > 1 and run.judged.exists():
        outputs["compared_sets"] = len(run_compare(config, run))
    outputs["report"] = str(write_run_report(config, run))
    return outputs


@dataclass
class StageSkip:
    reason: str


STAGE_FUNCTIONS: dict[str, Callable[[RunConfig, RunDir], Any]] = {
    "ingest": _stage_ingest, "generate": _stage_generate, "judge": _stage_judge,
    "curate": _stage_curate, "export": _stage_export, "router": _stage_router,
    "validate": _stage_validate, "report": _stage_report,
}


def run_pipeline(config: RunConfig, *, until: str = "report", skip: tuple[str, ...] = (),
                 on_stage: Callable[[StageOutcome], None] | None = None,
                 retry_failed: bool = False) -> PipelineResult:
    """Run the stages in order up to `until`, skipping those in `skip`; `retry_failed`: generate
    retries segments whose earlier generation failed for good (as `synth generate --retry-failed`)."""
    run = open_run(config)
    outcomes: list[StageOutcome] = []
    for name in STAGES[: STAGES.index(until) + 1]:
        outcome = _run_stage(name, config, run, skipped="skipped on request" if name in skip else None,
                             retry_failed=retry_failed)
        outcomes.append(outcome)
        _write_run_log(run, outcomes)
        if on_stage:
            on_stage(outcome)
    _raise_if_validation_failed(outcomes)
    return PipelineResult(str(run.root), outcomes)


def _raise_if_validation_failed(outcomes: list[StageOutcome]) -> None:
    """After the report is written, a failed validation gate fails the run (exit 7)."""
    for outcome in outcomes:
        if outcome.name == "validate" and outcome.summary.get("passed") is False:
            failed = outcome.summary.get("failed", "some")
            raise ValidationFailed(f"{failed} validation check(s) failed: see reports/validation.html")


def _run_stage(name: str, config: RunConfig, run: RunDir, skipped: str | None,
               retry_failed: bool = False) -> StageOutcome:
    if skipped:
        return StageOutcome(name, 0.0, skipped=skipped)
    from synth.text.embeddings import COUNTS, encode_summary

    started, before = time.perf_counter(), dict(COUNTS)
    value = (_stage_generate(config, run, retry_failed) if name == "generate"
             else STAGE_FUNCTIONS[name](config, run))
    seconds = round(time.perf_counter() - started, 3)
    if isinstance(value, StageSkip):
        return StageOutcome(name, seconds, skipped=value.reason)
    summary = value if isinstance(value, dict) else _summary(value)
    encoding = encode_summary(before)
    if any(encoding.values()):  # the stage read text with the encoder: how much was new
        summary = {**summary, **encoding}
    return StageOutcome(name, seconds, summary=summary)


def _write_run_log(run: RunDir, outcomes: list[StageOutcome]) -> None:
    payload = {"stages": [vars(o) for o in outcomes]}
    atomic_write_text(run.path("run.json"), json.dumps(payload, indent=2, default=str))
