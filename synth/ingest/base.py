"""Shared types of the ingest stage: what ingest found per file and in all (the audit reads them)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from synth.ingest.schema import FileSchema
from synth.records import QUALITY_FLAGS, QuarantinedRecord, Segment


class FileReport(BaseModel):
    path: str
    format: str
    records: int = 0
    usable: int = 0
    quarantined: int = 0
    schema_: FileSchema | None = Field(None, alias="schema")
    errors: list[str] = Field(default_factory=list)
    redacted_now: int = Field(0, exclude=True)  # distinct texts PII redaction ran on (not from the store)

    model_config = {"populate_by_name": True}


class OffTopicOutlier(BaseModel):
    """One record the corpus score quarantined as off_topic (synth.ingest.topic)."""

    source_file: str
    record_index: int | None
    style: str | None
    score: float  # mean cosine to its nearest neighbours in the run
    z: float  # robust z of the score among the run's scored segments
    excerpt: str


class OffTopicReport(BaseModel):
    """Which off_topic method ran, with what figures (the audit shows it)."""

    method: str  # corpus | word_list | off
    requested: str  # ingest.off_topic.method
    scored: int = 0
    median: float | None = None
    mad: float | None = None  # scaled MAD (1.4826 x median absolute deviation)
    lowest: list[OffTopicOutlier] = Field(default_factory=list)  # the lowest scores, flagged or not
    outliers: list[OffTopicOutlier] = Field(default_factory=list)
    flagged: int = 0  # records carrying off_topic after the decision
    notes: list[str] = Field(default_factory=list)


@dataclass
class RecordStat:
    """What the audit plots need of every record, usable or not."""

    file: str
    style: str | None
    confidence: float | None
    words: int
    usable: bool


@dataclass
class IngestResult:
    segments: list[Segment] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stats: list[RecordStat] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # corpus-level decisions the audit reports
    off_topic: OffTopicReport | None = None

    @property
    def records(self) -> int:
        return len(self.segments) + len(self.quarantined)

    def summary(self, experts: Sequence[str] = ()) -> dict[str, Any]:
        """Counts for --json and the pipeline: files, records, by_style, quarantined, flags."""
        by_style = Counter({name: 0 for name in experts})
        by_style.update(s.style for s in self.segments)
        flags = Counter({flag: 0 for flag in QUALITY_FLAGS})
        redactions: Counter[str] = Counter()
        for item in (*self.segments, *self.quarantined):
            flags.update(item.flags)
        for segment in self.segments:
            redactions.update(segment.redactions)
        return {
            "files": len(self.files), "files_with_errors": sum(1 for f in self.files if f.errors),
            "records": self.records, "usable": len(self.segments),
            "by_style": dict(by_style), "quarantined_total": len(self.quarantined),
            "quarantined": dict(Counter(q.reason for q in self.quarantined).most_common()),
            "flags": {flag: flags[flag] for flag in QUALITY_FLAGS},
            "redactions": dict(redactions),
            "confidence_scales": {f.path: f.schema_.confidence_scale for f in self.files if f.schema_},
            "errors": list(self.errors),
            "notes": list(self.notes),
            "off_topic": self.off_topic.model_dump(mode="json") if self.off_topic else None,
        }
