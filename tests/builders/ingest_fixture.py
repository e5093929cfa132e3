"""Test data for ingest/audit tests, written for these tests (never copied from real exports)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synth.experts import ExpertSet, load_experts

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["shame", "anxiety", "boundaries", "grief", "loneliness", "perfectionism", "people pleasing",
          "anger", "jealousy", "self-doubt", "burnout", "rejection"]
STYLES = ["therapeutic", "educational", "empathetic", "practical"]


def experts() -> ExpertSet:
    return load_experts(ROOT / "configs" / "experts.yaml")


PARAGRAPHS = {
    "shame": "Shame tells you that you are the problem, not that you made a mistake. It usually grew in "
             "homes where love felt conditional, so hiding felt safer than being seen.",
    "anxiety": "Anxiety is your alarm system firing before your thinking brain catches up. Your heart "
               "races and your breath gets shallow, even when nothing dangerous is happening.",
    "boundaries": "A boundary is a decision about what you will do, not a rule for someone else. Start "
                  "small, say it once, and let the guilt be there without obeying it.",
    "grief": "Grief for the childhood you needed is real grief. Nobody brings flowers for it, which is "
             "why it can feel so lonely and so hard to name out loud.",
    "loneliness": "Loneliness after healing often means you outgrew relationships built on your silence. "
                  "It hurts, and it also makes room for people who can meet the real you.",
    "perfectionism": "Perfectionism is often protection wearing the costume of high standards. If being "
                     "flawless once kept you safe, resting can feel strangely dangerous now.",
    "people pleasing": "People pleasing is a survival skill you learned by reading every mood in the "
                       "room. You kept the peace, and you slowly lost track of your own wants.",
    "anger": "Anger in recovery is often the part of you that finally knows you deserved better. It "
             "carries information about where your limits were crossed.",
    "jealousy": "Jealousy can point at a longing you have not let yourself admit. Instead of scolding "
                "it, ask what it is trying to show you about your needs.",
    "self-doubt": "Self-doubt often echoes an old voice that corrected you constantly. Notice whose "
                  "words they are before you decide whether you still agree with them.",
    "burnout": "Burnout builds quietly when rest never feels earned. Your body keeps the score of every "
               "evening you pushed through, and eventually it asks you to stop.",
    "rejection": "Rejection sensitivity makes a late reply feel like proof you are unwanted. Your "
                 "nervous system is scanning for a loss it learned to expect long ago.",
}


def answer(topic: str, n: int = 0) -> str:
    """A warm, on-topic answer of about 60-70 words: the topic's paragraph plus another, chosen
    by n, so two answers share at most one paragraph (never near-duplicates of each other)."""
    other = TOPICS[(TOPICS.index(topic) + 1 + n % (len(TOPICS) - 1)) % len(TOPICS)]
    return f"{PARAGRAPHS[topic]} And one more thing, number {n}: {PARAGRAPHS[other]}"


def object_export(n: int = 8, style: str | None = "educational", **extra: Any) -> dict[str, Any]:
    """Exporter shape 1: an object with a `segments` list, 0-1 confidence, nested video."""
    segments = [{"segment_id": f"obj-{i}", "text": answer(TOPICS[i % len(TOPICS)], i),
                 "confidence": round(0.7 + 0.02 * i, 3),
                 "video": {"title": f"Talk number {i}", "video_id": f"vid{i:03d}"},
                 "start": 10 * i, "end": 10 * i + 40} for i in range(n)]
    doc: dict[str, Any] = {"style": style} if style else {}  # file-level fields before the list
    doc.update({"exported_at": "2025-01-01", "segments": segments, **extra})
    return doc


def list_export(n: int = 8) -> list[dict[str, Any]]:
    """Exporter shape 2: a bare list, 0-100 confidence (some strings), HH:MM:SS ranges."""
    return [{"id": f"lst-{i}", "segment_text": answer(TOPICS[(i + 5) % len(TOPICS)], 100 + i),
             "communication_style": STYLES[i % 4], "confidence_score": f"{80 + i}.5" if i % 2 else 75 + i,
             "source_title": f"Clip title {i}", "timestamp": f"00:0{i}:00 - 00:0{i}:45"} for i in range(n)]


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def assert_accounted(result: Any) -> None:
    """Every record ends usable or quarantined; the summary agrees."""
    summary = result.summary()
    assert summary["usable"] + summary["quarantined_total"] == summary["records"] == result.records
    assert sum(summary["quarantined"].values()) == summary["quarantined_total"]
    assert sum(summary["by_style"].values()) == summary["usable"]
