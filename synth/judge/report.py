"""reports/judge.html: judge statistics of a run (written by every `synth judge`).

Acceptance per expert, score distributions per criterion, named rejection reasons (PNG),
automated check pass rates, safety exclusions with the sentence that triggered them, and what
the run cost (judge requests, calls sent, cache hits, failures, revisions, spend).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from synth.files import atomic_write_text
from synth.judge.checks import ADVISORY_CHECKS
from synth.records import JudgedPair
from synth.reports.html import esc, html_page, html_table
from synth.reports.plots import bars
from synth.rundir import RunDir

SAFETY_PREFIXES = ("unsafe_question", "medical_advice", "crisis_", "harmful_advice", "judge_flag")
MAX_LISTED = 100


def write_judge_report(run: RunDir, judged: list[JudgedPair], summary: dict[str, Any]) -> Path:
    reports = run.reports
    reasons = Counter(r for j in judged for r in j.reasons)
    plot = bars(dict(reasons.most_common(25)), reports / "judge" / "reasons.png",
                "Rejection reasons (a pair can have several)", "pairs")
    body = [_overview(summary), "<h2>Per expert</h2>", _per_expert(judged),
            "<h2>Scores per criterion</h2>", _score_counts(judged), "<h2>Rejection reasons</h2>",
            '<img src="judge/reasons.png" alt="rejection reasons">' if plot else "<p>No rejections.</p>",
            "<h2>Automated checks</h2>", _checks(judged), "<h2>Safety exclusions</h2>", _safety(judged)]
    return atomic_write_text(reports / "judge.html", html_page("Judge statistics", "\n".join(body)))


def _overview(summary: dict[str, Any]) -> str:
    keys = ("judge_model", "rubric_hash", "pairs", "accepted", "rejected", "judge_requests", "calls",
            "cached", "failed", "not_judged", "stale_segment", "revise_requests", "revised", "spend_usd")
    rows = [[esc(k.replace("_", " ")), esc(summary.get(k, ""))] for k in keys]
    note = ("<p>judge requests: pairs sent to the judge in this run (0 when every judgment was "
            "current); calls: HTTP requests sent (retries and re-asks included).</p>")
    return html_table(["", "value"], rows) + note


def _per_expert(judged: list[JudgedPair]) -> str:
    groups: dict[str, list[JudgedPair]] = defaultdict(list)
    for item in judged:
        groups[item.pair.expert].append(item)
    criteria = sorted({c for j in judged if j.judgment for c in j.judgment.scores})
    rows = []
    for expert, items in sorted(groups.items()):
        accepted = sum(j.accepted for j in items)
        means = [_mean([j.judgment.scores[c].score for j in items
                        if j.judgment and c in j.judgment.scores]) for c in criteria]
        failed = sum(1 for j in items if j.judgment is not None and j.judgment.status == "failed")
        rows.append([esc(expert), str(len(items)), str(accepted), f"{accepted / len(items):.0%}",
                     str(sum(j.pair.revision > 0 for j in items)), str(failed), *means])
    return html_table(["expert", "pairs", "accepted", "rate", "revised", "judge failed",
                       *(f"mean {c}" for c in criteria)], rows)


def _mean(values: list[int]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


def _score_counts(judged: list[JudgedPair]) -> str:
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for item in judged:
        if item.judgment is not None:
            for name, verdict in item.judgment.scores.items():
                counts[name][verdict.score] += 1
    rows = [[esc(name), *(str(c[level]) for level in range(1, 6))] for name, c in sorted(counts.items())]
    return html_table(["criterion", "1", "2", "3", "4", "5"], rows) if rows else "<p>No judgments.</p>"


def _checks(judged: list[JudgedPair]) -> str:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for item in judged:
        for check in item.checks:
            tally[check.name]["skipped" if check.skipped else "passed" if check.passed else "failed"] += 1
    rows = [[esc(name + (" (a score, no veto)" if name in ADVISORY_CHECKS else "")), str(c["passed"]),
             str(c["failed"]), str(c["skipped"])] for name, c in tally.items()]
    return html_table(["check", "passed", "failed", "skipped"], rows)


def _safety(judged: list[JudgedPair]) -> str:
    hits = [j for j in judged if any(r.startswith(SAFETY_PREFIXES) for r in j.reasons)]
    if not hits:
        return "<p>No pair was excluded for safety.</p>"
    rows = []
    for item in hits[:MAX_LISTED]:
        quotes = [f.quote for f in item.judgment.safety_flags] if item.judgment else []
        screen = next((c.reason for c in item.checks if c.name == "safety_screen" and not c.passed), "")
        rows.append([esc(item.pair.pair_id), esc(item.pair.expert),
                     esc(", ".join(r for r in item.reasons if r.startswith(SAFETY_PREFIXES))),
                     esc(item.pair.question), esc(" | ".join(quotes) or screen)])
    more = f"<p>... and {len(hits) - MAX_LISTED} more (see judged.jsonl).</p>" if len(hits) > MAX_LISTED else ""
    return html_table(["pair", "expert", "reasons", "question", "evidence"], rows) + more
