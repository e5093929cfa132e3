"""The audit report of an ingest: audit.md, audit.html, audit.json and PNG plots.

Plots: word (and, with a tokenizer, token) length histograms per style, confidence per
style and per file, flag counts, quarantine reasons. The off-topic section says which method
ran and, for the corpus score, its figures and the lowest-scoring segments. Per file: the inferred schema (field,
type, presence %, example: personal data redacted, in every report), the role each field plays and the detected
confidence scale.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import synth.ingest.piibulk as piibulk
from synth.errors import ConfigError
from synth.experts import ExpertSet
from synth.files import atomic_write_text
from synth.ingest.base import FileReport, IngestResult, OffTopicReport
from synth.ingest.clean import pii_engine, redact_pii
from synth.ingest.langid import available as langid_available
from synth.reports.html import Image, Section, Table, to_html, to_markdown
from synth.reports.plots import bars, distributions, histograms
from synth.tokenizer import count_tokens

EXAMPLES_PER_REASON = 5


def token_lengths(tokenizer_dir: str | Path, texts: list[str]) -> list[int]:
    """Token counts with a local tokenizer dir (tokenizer.json, else transformers)."""
    path = Path(tokenizer_dir)
    if not path.is_dir():
        raise ConfigError("tokenizer directory not found", key="tokenizer", file=str(path))
    return count_tokens(path, texts, key="tokenizer")


def _plots(result: IngestResult, out: Path, styles: list[str], tokens: list[int] | None) -> dict[str, Path | None]:
    words: dict[str, list[int]] = {s: [] for s in styles}
    for segment in result.segments:
        words.setdefault(segment.style, []).append(segment.word_count)
    by_style: dict[str, list[float]] = defaultdict(list)
    by_file: dict[str, list[float]] = defaultdict(list)
    for stat in result.stats:
        if stat.confidence is not None:
            by_style[stat.style or "(no style)"].append(stat.confidence)
            by_file[stat.file].append(stat.confidence)
    summary = result.summary(styles)
    plots = {
        "lengths_words": histograms(words, out / "lengths_words.png", "Usable segments: words per style", "words"),
        "confidence_by_style": distributions(by_style, out / "confidence_by_style.png",
                                             "Confidence (0-1) per style, all records", "confidence"),
        "confidence_by_file": distributions(by_file, out / "confidence_by_file.png",
                                            "Confidence (0-1) per file, all records", "confidence"),
        "flags": bars(summary["flags"], out / "flags.png", "Quality flags (all records)"),
        "quarantine": bars(summary["quarantined"], out / "quarantine.png", "Quarantine reasons"),
    }
    if tokens is not None:
        per_style: dict[str, list[int]] = {s: [] for s in styles}
        for segment, count in zip(result.segments, tokens):
            per_style.setdefault(segment.style, []).append(count)
        plots["lengths_tokens"] = histograms(per_style, out / "lengths_tokens.png",
                                             "Usable segments: tokens per style", "tokens")
    return plots


def _image(plots: dict[str, Path | None], key: str, caption: str) -> list[Image | str]:
    path = plots.get(key)
    return [Image(path.name, caption)] if path else [f"{caption}: nothing to plot."]


def _summary_section(result: IngestResult, summary: dict[str, Any]) -> Section:
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for segment in result.segments:
        labels[segment.style][repr(segment.raw_style)] += 1
    counts = Table(["", "count"], [["files", summary["files"]], ["files with errors", summary["files_with_errors"]],
                                   ["records", summary["records"]], ["usable", summary["usable"]],
                                   ["quarantined", summary["quarantined_total"]]])
    styles = Table(["expert", "usable", "source labels seen"],
                   [[s, n, ", ".join(f"{k} x{v}" for k, v in labels[s].most_common())]
                    for s, n in summary["by_style"].items()])
    balanced = "yes" if summary["usable"] + summary["quarantined_total"] == summary["records"] else "NO"
    return Section("Summary", [f"Every record accounted for (usable + quarantined = records): {balanced}.",
                               counts, styles])


def _quarantine_section(result: IngestResult, summary: dict[str, Any], plots: dict[str, Path | None]) -> Section:
    examples: dict[str, list[list[object]]] = defaultdict(list)
    for q in result.quarantined:
        if len(examples[q.reason]) < EXAMPLES_PER_REASON:
            examples[q.reason].append([q.reason, Path(q.source_file).name, q.record_index if q.record_index
                                       is not None else "", q.line or "", q.field or "", q.message[:160]])
    blocks: list[Any] = [Table(["reason", "records"], [[r, n] for r, n in summary["quarantined"].items()])]
    blocks += _image(plots, "quarantine", "Quarantine reasons")
    blocks.append(Table(["reason", "file", "record", "line", "field", "message"],
                        [row for rows in examples.values() for row in rows]))
    return Section("Quarantine", blocks)


def _flags_section(result: IngestResult, summary: dict[str, Any], plots: dict[str, Path | None]) -> Section:
    usable = Counter(f for s in result.segments for f in s.flags)
    rows = [[flag, n, usable[flag], n - usable[flag]] for flag, n in summary["flags"].items()]
    redactions = Table(["placeholder", "redactions"], [[k, v] for k, v in summary["redactions"].items()])
    language = ("lingua (lingua-language-detector), sentence by sentence" if langid_available()
                else "English function-word ratio (install the screen extra for lingua)")
    return Section("Quality flags", [Table(["flag", "all records", "usable", "quarantined"], rows),
                                     *_image(plots, "flags", "Flag counts"),
                                     f"PII redaction: {pii_engine()}.", f"Language ID: {language}.",
                                     "PII redacted in usable segments:", redactions])


def _off_topic_section(report: OffTopicReport) -> Section:
    """Which off_topic method ran; for the corpus score, its figures and the lowest scores."""
    blocks: list[Any] = [f"Method: {report.method} (asked: {report.requested}); {report.flagged} record(s) "
                         "flagged off_topic.", *report.notes]
    if report.method == "corpus":
        flagged = {(o.source_file, o.record_index) for o in report.outliers}
        blocks.append(f"The {len(report.lowest)} lowest of {report.scored} scores:")
        blocks.append(Table(["file", "record", "style", "score", "robust z", "off_topic", "text"],
                            [[Path(o.source_file).name, o.record_index if o.record_index is not None else "",
                              o.style or "", f"{o.score:.3f}", f"{o.z:.2f}",
                              "yes" if (o.source_file, o.record_index) in flagged else "no", o.excerpt]
                             for o in report.lowest]))
    return Section("Off-topic", blocks)


def _redacted(report: FileReport) -> FileReport:
    """The report with its schema's examples redacted (inside piibulk.redacted of their sources)."""
    if report.schema_ is None:
        return report
    return report.model_copy(update={"schema_": report.schema_.redacted(lambda text: redact_pii(text)[0])})


def _file_section(report: FileReport) -> Section:
    """One file's section (`report` redacted: _redacted)."""
    schema = report.schema_
    counts = f"{report.records} records: {report.usable} usable, {report.quarantined} quarantined."
    blocks: list[Any] = [f"{report.format}; {counts}"]
    blocks += [f"error: {e}" for e in report.errors]
    if schema is None:
        return Section(Path(report.path).name, blocks, level=3)
    blocks.append(f"Confidence scale: {schema.confidence_scale}.")
    blocks.append(Table(["role", "field", "from"], [[role, path, "field_map" if role in schema.mapped else "inferred"]
                                                   for role, path in schema.roles.items()]))
    blocks.append(Table(["field", "type", "presence %", "example"],
                        [[s.field, s.type, s.presence, s.example] for s in schema.fields]))
    if schema.file_fields:
        blocks.append("File-level fields (apply to every record that lacks them):")
        blocks.append(Table(["field", "type", "example"], [[s.field, s.type, s.example]
                                                           for s in schema.file_fields]))
    return Section(Path(report.path).name, blocks, level=3)


def write_audit(result: IngestResult, out_dir: str | Path, *, experts: ExpertSet | None = None,
                tokenizer: str | Path | None = None) -> dict[str, Any]:
    """Write audit.md, audit.html, audit.json and the PNGs into out_dir; return the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    styles = experts.names if experts else sorted({s.style for s in result.segments})
    summary = result.summary(styles)
    tokens = token_lengths(tokenizer, [s.text for s in result.segments]) if tokenizer else None
    plots = _plots(result, out, styles, tokens)
    sections = [_summary_section(result, summary)]
    if result.errors:
        sections.append(Section("Errors", [Table(["error"], [[e] for e in result.errors])]))
    if result.notes:
        sections.append(Section("Corpus decisions", list(result.notes)))
    if result.off_topic is not None:
        sections.append(_off_topic_section(result.off_topic))
    sections += [_quarantine_section(result, summary, plots), _flags_section(result, summary, plots),
                 Section("Lengths", _image(plots, "lengths_words", "Words per usable segment, per style")
                         + (_image(plots, "lengths_tokens", f"Tokens per usable segment ({tokenizer})")
                            if tokens is not None else [])),
                 Section("Confidence", _image(plots, "confidence_by_style", "Confidence per style")
                         + _image(plots, "confidence_by_file", "Confidence per file")),
                 Section("Files", [f"{len(result.files)} file(s)."])]
    examples = [text for f in result.files if f.schema_ for text in f.schema_.redaction_sources()]
    try:
        with piibulk.redacted(examples):  # a rerun: from the store
            reports = [_redacted(report) for report in result.files]
    finally:
        piibulk.close_pool()  # many examples may have started one: not left running through the later stages
    sections += [_file_section(report) for report in reports]
    atomic_write_text(out / "audit.md", to_markdown("Segment audit", sections))
    atomic_write_text(out / "audit.html", to_html("Segment audit", sections))
    details = {**summary, "file_reports": [f.model_dump(mode="json", by_alias=True) for f in reports]}
    atomic_write_text(out / "audit.json", json.dumps(details, indent=2, ensure_ascii=False))
    return summary
