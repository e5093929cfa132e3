"""The compare report: reports/compare.json ({"generations": [...]}) and reports/compare.html
(the judge and rubric whose verdicts are counted, one table of metrics by set and one per
expert, plots of accept rate, mean scores and cost per accepted pair; linked from the run
report). Rates are shown as percentages, money in dollars; a figure that does not exist (nothing
judged, nothing accepted) is "n/a" wherever it appears, never 0 beside n/a."""
from __future__ import annotations

import json

from synth.files import atomic_write_text
from synth.records import SetComparison, SetMetrics
from synth.reports.html import Image, Section, Table, to_html
from synth.reports.plots import grouped_bars
from synth.rundir import RunDir

COLUMNS = ("pairs", "judged", "accepted", "accept_rate", "failed", "spend_usd", "cost_per_accepted_usd",
           "distinct_bigrams", "embedding_distance", "question_words")
NA = "n/a"


def _usd(value: float) -> str:
    return f"${value:.4f}" if value == 0 or value >= 0.0001 else f"${value:.1e}"


def cell(metrics: SetMetrics, column: str) -> str:
    """One figure as people read it: counts, percentages, dollars; n/a where it does not exist."""
    value = getattr(metrics, column)
    judged = metrics.judged > 0
    if value is None or (column == "accepted" and not judged):
        return NA
    if column in ("accept_rate", "distinct_bigrams"):
        return f"{value:.1%}"
    if column in ("spend_usd", "cost_per_accepted_usd"):
        return _usd(value)
    if column == "embedding_distance":
        return f"{value:.3f}"
    if column == "question_words":
        return f"{value:.1f}"
    return str(value)


def row(metrics: SetMetrics) -> list[object]:
    scores = ", ".join(f"{k} {v:.2f}" for k, v in metrics.mean_scores.items()) or NA
    return [cell(metrics, c) for c in COLUMNS] + [scores]


def judge_lines(results: list[SetComparison]) -> list[str]:
    """Whose verdicts are counted, and every set that judge has not judged (fully)."""
    if not results:
        return []
    first = results[0]
    lines = [f"Verdicts of the judge {first.judge} (rubric {first.rubric}) only; "
             "other judges' verdicts are not shown."]
    for r in results:
        if r.pairs and not r.judged:
            lines.append(f"Set {r.id} ({r.model}): not judged by {first.judge}"
                         + (f" ({r.other_judge} pair(s) judged by another judge or rubric)" if r.other_judge else "")
                         + "; run synth judge CONFIG.")
        elif r.other_judge:
            lines.append(f"Set {r.id} ({r.model}): {r.other_judge} pair(s) judged by another judge or "
                         f"rubric, left out; run synth judge CONFIG.")
    return lines


def compare_json(results: list[SetComparison]) -> str:
    return json.dumps({"generations": [r.model_dump(mode="json") for r in results]}, indent=2)


def _by_metric(columns: list[tuple[str, SetMetrics]]) -> Table:
    """Metrics down, sets across: as many columns as sets, so the page fits its width."""
    cells = [row(m) for _, m in columns]
    names = [*COLUMNS, "mean_scores"]
    return Table(["", *(label for label, _ in columns)],
                 [[name.replace("_", " "), *(c[i] for c in cells)] for i, name in enumerate(names)])


def write_compare_report(run: RunDir, results: list[SetComparison]) -> None:
    reports = run.reports
    atomic_write_text(reports / "compare.json", compare_json(results) + "\n")
    label = {r.id: f"{r.id} ({r.model})" for r in results}
    overall = _by_metric([(label[r.id], r) for r in results])
    experts = sorted({e for r in results for e in r.experts})
    per_expert = [Section(name, [_by_metric([(label[r.id], r.experts[name]) for r in results
                                             if name in r.experts])], level=3) for name in experts]
    images = [img for img in (
        _plot(run, "compare_accept_rate.png", {label[r.id]: {e: m.accept_rate for e, m in r.experts.items()}
                                               for r in results}, "Accept rate per expert", "accept rate"),
        _plot(run, "compare_scores.png", {label[r.id]: dict(r.mean_scores) for r in results},
              "Mean judge score per criterion", "score"),
        _plot(run, "compare_cost.png", {label[r.id]: {"cost per accepted pair": r.cost_per_accepted_usd}
                                        for r in results}, "Generation cost per accepted pair", "USD"),
    ) if img is not None]
    segments = results[0].segments if results else 0
    intro = (f"{len(results)} set(s) on the {segments} segment(s) every set attempted; spend is the "
             "call log's generation cost of those segments.")
    sections = [
        Section("Generation sets", [intro, *judge_lines(results), overall]),
        Section("Per expert", []), *per_expert,
        Section("Plots", images or ["nothing to plot yet (judge the pairs first: synth judge CONFIG)"]),
    ]
    atomic_write_text(reports / "compare.html", to_html("Generator comparison", sections))


def _plot(run: RunDir, name: str, groups: dict[str, dict[str, float | None]], title: str,
          ylabel: str) -> Image | None:
    clean = {g: {k: v for k, v in values.items() if v is not None} for g, values in groups.items()}
    path = grouped_bars({g: v for g, v in clean.items() if v}, run.reports / name, title, ylabel)
    return Image(name, title) if path is not None else None
