"""The compare report: reports/compare.json ({"generations": [...]}) and reports/compare.html
(one table per set and per expert, plots of accept rate, mean scores and cost per accepted pair;
linked from the run report)."""
from __future__ import annotations

import json

from synth.files import atomic_write_text
from synth.records import SetComparison, SetMetrics
from synth.reports.html import Image, Section, Table, to_html
from synth.reports.plots import grouped_bars
from synth.rundir import RunDir

COLUMNS = ("pairs", "judged", "accepted", "accept_rate", "failed", "spend_usd", "cost_per_accepted_usd",
           "distinct_bigrams", "embedding_distance", "question_words")


def cell(value: object) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def row(metrics: SetMetrics) -> list[object]:
    scores = ", ".join(f"{k} {v:.2f}" for k, v in metrics.mean_scores.items()) or "n/a"
    return [cell(getattr(metrics, c)) for c in COLUMNS] + [scores]


def compare_json(results: list[SetComparison]) -> str:
    return json.dumps({"generations": [r.model_dump(mode="json") for r in results]}, indent=2)


def write_compare_report(run: RunDir, results: list[SetComparison]) -> None:
    reports = run.reports
    atomic_write_text(reports / "compare.json", compare_json(results) + "\n")
    headers = ["set", "model", *COLUMNS, "mean scores"]
    overall = Table(headers, [[r.id, r.model, *row(r)] for r in results])
    per_expert = Table(["set", "model", "expert", *COLUMNS, "mean scores"],
                       [[r.id, r.model, name, *row(m)] for r in results for name, m in r.experts.items()])
    images = [img for img in (
        _plot(run, "compare_accept_rate.png", {f"{r.id} {r.model}": {e: m.accept_rate for e, m in r.experts.items()}
                                               for r in results}, "Accept rate per expert", "accept rate"),
        _plot(run, "compare_scores.png", {f"{r.id} {r.model}": dict(r.mean_scores) for r in results},
              "Mean judge score per criterion", "score"),
        _plot(run, "compare_cost.png", {f"{r.id} {r.model}": {"cost per accepted pair": r.cost_per_accepted_usd}
                                        for r in results}, "Generation cost per accepted pair", "USD"),
    ) if img is not None]
    segments = results[0].segments if results else 0
    intro = (f"{len(results)} set(s) on the {segments} segment(s) every set attempted, judged by "
             "the same judge (judged.jsonl).")
    sections = [
        Section("Generation sets", [intro, overall]),
        Section("Per expert", [per_expert]),
        Section("Plots", images or ["nothing to plot yet (judge the pairs first: synth judge CONFIG)"]),
    ]
    atomic_write_text(reports / "compare.html", to_html("Generator comparison", sections))


def _plot(run: RunDir, name: str, groups: dict[str, dict[str, float | None]], title: str,
          ylabel: str) -> Image | None:
    clean = {g: {k: v for k, v in values.items() if v is not None} for g, values in groups.items()}
    path = grouped_bars({g: v for g, v in clean.items() if v}, run.reports / name, title, ylabel)
    return Image(name, title) if path is not None else None
