"""Ingest: export files -> usable Segments + QuarantinedRecords (+ an audit report).

Every record ends in exactly one of the two lists: usable + quarantined = records, where an
unparseable chunk (a non-JSON file, a truncated tail, a bad JSONL line) counts as one record.
File-level problems are also collected as one-line InputError messages in `errors`.
"""
from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import track

import synth.ingest.piibulk as piibulk
from synth.config import IngestConfig, RunConfig
from synth.errors import InputError
from synth.experts import ExpertSet, load_experts
from synth.files import write_jsonl
from synth.ingest.audit import write_audit
from synth.ingest.base import FileReport, IngestResult, RecordStat
from synth.ingest.extract import Draft, Extractor, excerpt_strings, excerpt_text
from synth.ingest.flags import duplicate_id_keepers, duplicate_keepers
from synth.ingest.readers import LoadedFile, Unreadable, discover, load_file
from synth.ingest.schema import RECORDS_KEY, build_schema, normalise_field_map
from synth.ingest.topic import decide_off_topic
from synth.records import QUALITY_FLAGS, QuarantinedRecord, Segment, stable_id
from synth.rundir import RunDir

T = TypeVar("T")


def _track(items: Sequence[T], label: str, enabled: bool) -> Iterable[T]:
    if not enabled:
        return items
    return track(items, description=label, console=Console(stderr=True), transient=True)


def ingest_paths(paths: Sequence[str], experts: ExpertSet, field_map: Mapping[str, str] | None = None,
                 ingest_cfg: IngestConfig | None = None, *, progress: bool = False) -> IngestResult:
    """Read, normalise, clean and flag every record of the given files, dirs and globs."""
    cfg = ingest_cfg or IngestConfig()
    roles = normalise_field_map(field_map)
    files, errors = discover(list(paths))
    result = IngestResult(errors=errors)
    drafts: list[Draft] = []
    try:
        for path in _track(files, "reading", progress):
            report, file_drafts = _ingest_file(path, experts, roles, cfg)
            result.files.append(report)
            result.errors.extend(report.errors)
            drafts.extend(file_drafts)
    finally:
        piibulk.close_pool()
    _resolve_sources(drafts)
    _corpus_flags(drafts, cfg)
    result.off_topic = decide_off_topic(drafts, cfg.off_topic, experts)
    result.notes.extend(result.off_topic.notes)
    redacted = sum(report.redacted_now for report in result.files)
    result.notes.append(f"PII: {redacted} distinct texts redacted now (the rest from the machine's redaction store "
                        "or with nothing to redact)")
    try:
        _decide(drafts, cfg, result, progress)
    finally:
        piibulk.close_pool()  # the quarantine excerpts' redaction may have started one again
    return result


def _ingest_file(path: Path, experts: ExpertSet, roles: dict[str, str], cfg: IngestConfig
                 ) -> tuple[FileReport, list[Draft]]:
    loaded = load_file(path, roles.get(RECORDS_KEY))
    report = FileReport(path=loaded.path, format=loaded.format, errors=list(loaded.errors))
    drafts = [_unreadable_draft(loaded, unit) for unit in loaded.unreadable]
    objects = [r.value for r in loaded.records if isinstance(r.value, dict)]
    if loaded.records:
        schema = build_schema(objects, loaded.file_fields, roles, lambda v: experts.expert_for_label(v) is not None)
        report.schema_ = schema
        report.errors.extend(str(InputError(w, file=loaded.path)) for w in schema.warnings)
        if objects and "text" not in schema.roles:
            fields = ", ".join(s.field for s in schema.fields[:12]) or "none"
            report.errors.append(str(InputError(
                f"no text field recognised among fields: {fields}; set field_map.text", file=loaded.path)))
        extractor = Extractor(loaded, schema, experts, cfg.max_text_chars, cfg.workers)
        drafts.extend(extractor.extract_all(loaded.records))
        report.redacted_now = extractor.redacted_now
    report.records = len(drafts)
    return report, drafts


def _unreadable_draft(loaded: LoadedFile, unit: Unreadable) -> Draft:
    draft = Draft(loaded.path, None, unit.line, unit.excerpt)
    return draft.reject(unit.reason, None, unit.message)


def _resolve_sources(drafts: list[Draft]) -> None:
    """Source id: the video id; else the id another export gives the same title; else the
    title; else the file name. Records of one video then share one split group."""
    by_title = {d.title: d.source_id for d in drafts if d.title and d.source_id}
    for draft in drafts:
        if draft.source_id is None:
            draft.source_id = by_title.get(draft.title or "") or draft.title or Path(draft.source_file).stem


def _corpus_flags(drafts: list[Draft], cfg: IngestConfig) -> None:
    """exact_duplicate, near_duplicate (same source) and duplicate_id (same file). Of each
    group the first record that is otherwise usable is kept; the others carry the flag."""
    unusable = [_quarantine_reason(d, cfg)[0] is not None for d in drafts]
    order = sorted(range(len(drafts)), key=lambda i: (unusable[i], i))
    with_text = [i for i in order if drafts[i].text]
    exact, near = duplicate_keepers([drafts[i].text or "" for i in with_text],
                                    [drafts[i].source_id or "" for i in with_text], cfg.near_dup_threshold)
    for position, index in enumerate(with_text):
        for flag, keeper in (("exact_duplicate", exact[position]), ("near_duplicate", near[position])):
            if keeper is not None:
                drafts[index].flags.append(flag)
                drafts[index].duplicate_of[flag] = with_text[keeper]
    keys = [f"{drafts[i].source_file}\x1f{drafts[i].raw_id}" if drafts[i].raw_id else None for i in order]
    for position, keeper in enumerate(duplicate_id_keepers(keys)):
        if keeper is not None:
            drafts[order[position]].flags.append("duplicate_id")
            drafts[order[position]].duplicate_of["duplicate_id"] = order[keeper]


_FLAG_MESSAGES = {
    "non_english": "text does not read as English",
    "prompt_injection": "the text talks to the model (template tokens, role headers or instructions)",
    "promo": "promotional talk (course, sponsor, subscribe, link in the description)",
    "off_topic": "not about psychology, mental health or relationships (domain word list)",
    "empty_text": "nothing left after cleaning",
    "transcript_artifacts": "transcript artifacts ([Music], fillers, stutters)",
    "html_entities": "HTML entities in the text",
    "pii": "personal data (email, phone number or full name)",
    "crisis_content": "mentions suicide or self-harm",
    "bad_timestamps": "timestamps are unreadable or end before they start",
    "confidence_out_of_range": "confidence outside 0-1 (or 0-100)",
    "confidence_missing": "no confidence value",
}


def _flag_message(flag: str, draft: Draft, drafts: list[Draft]) -> str:
    keeper = drafts[draft.duplicate_of[flag]] if flag in draft.duplicate_of else None
    where = f"{keeper.source_file} record {keeper.record_index}" if keeper else ""
    low, high = draft.word_bounds
    messages = {
        "exact_duplicate": f"same text as {where}",
        "near_duplicate": f"overlaps {where} (same source {draft.source_id!r})",
        "duplicate_id": f"id {draft.raw_id!r} is also used by {where}",
        "too_short": f"{draft.word_count} words; {draft.style or 'every expert'} needs at least {low}",
        "too_long": f"{draft.word_count} words; {draft.style or 'every expert'} allows at most {high}",
        "low_confidence": f"confidence {draft.confidence} is below {draft.style}'s min_confidence "
                          f"{draft.min_confidence}",
    }
    return draft.flag_messages.get(flag) or messages.get(flag) or _FLAG_MESSAGES.get(flag, flag)


def _quarantine_reason(draft: Draft, cfg: IngestConfig) -> tuple[str | None, str | None]:
    if draft.reason:
        return draft.reason, draft.message
    for flag in QUALITY_FLAGS:
        if flag in draft.flags and flag in cfg.quarantine_flags:
            return flag, None
    low = (draft.confidence is not None and draft.min_confidence is not None
           and draft.confidence < draft.min_confidence)
    return ("low_confidence", None) if low and "low_confidence" in cfg.quarantine_flags else (None, None)


def _decide(drafts: list[Draft], cfg: IngestConfig, result: IngestResult, progress: bool) -> None:
    per_file = {report.path: report for report in result.files}
    used_ids: set[str] = set()
    reasons = [_quarantine_reason(draft, cfg) for draft in drafts]
    excerpted = [bool(reason) and draft.raw is not None for draft, (reason, _) in zip(drafts, reasons)]
    values = [text for draft, keep in zip(drafts, excerpted) if keep
              for text in excerpt_strings(draft.raw, cfg.max_text_chars)]
    with piibulk.redacted(values, cfg.workers):  # value by value: the texts are in the store already
        for index in _track(range(len(drafts)), "flagging", progress):
            draft, (reason, message) = drafts[index], reasons[index]
            raw = excerpt_text(draft.raw, cfg.max_text_chars) if excerpted[index] else None
            report = per_file[draft.source_file]
            if reason:
                report.quarantined += 1
                result.quarantined.append(QuarantinedRecord(
                    source_file=draft.source_file, record_index=draft.record_index, line=draft.line,
                    reason=reason, field=draft.field_path, message=message or _flag_message(reason, draft, drafts),
                    raw=raw, flags=draft.flags, style=draft.style))
            else:
                report.usable += 1
                result.segments.append(_segment(draft, used_ids))
            result.stats.append(RecordStat(draft.source_file, draft.style, draft.confidence,
                                           draft.word_count, reason is None))
            draft.raw = None


def _segment(draft: Draft, used_ids: set[str]) -> Segment:
    segment_id = stable_id(draft.source_id or "", draft.original_text or "")
    salt = 0
    while segment_id in used_ids:  # same source and text kept twice (dedup switched off)
        salt += 1
        segment_id = stable_id(draft.source_id or "", draft.original_text or "", str(salt))
    used_ids.add(segment_id)
    return Segment(
        segment_id=segment_id, source_file=draft.source_file, record_index=draft.record_index or 0,
        raw_id=draft.raw_id, source_id=draft.source_id or "", source_title=draft.title,
        style=draft.style or "", raw_style=draft.raw_style or "", confidence=draft.confidence,
        confidence_scale=draft.confidence_scale, start_s=draft.start_s, end_s=draft.end_s,
        text=draft.text or "", original_text=draft.original_text or "", flags=draft.flags,
        redactions=draft.redactions, word_count=draft.word_count)


def resolve_inputs(config: RunConfig) -> list[str]:
    """Config inputs (paths or globs) relative to the working dir, else to the config file."""
    resolved = []
    for pattern in config.inputs:
        if Path(pattern).is_absolute() or Path(pattern).exists() or glob.glob(pattern, recursive=True):
            resolved.append(pattern)
        elif config.source_path:
            resolved.append(str(Path(config.source_path).parent / pattern))
        else:
            resolved.append(pattern)
    return resolved


def _local_tokenizer(config: RunConfig) -> Path | None:
    """export.tokenizer when it is a local dir (token histograms in the audit), else None."""
    if not config.export.tokenizer:
        return None
    path = config.resolve(config.export.tokenizer)
    return path if path.is_dir() else None


def run_ingest(config: RunConfig, run: RunDir, *, progress: bool = False,
               tokenizer: str | Path | None = None) -> IngestResult:
    """Ingest the config's inputs; write segments, quarantine and reports/audit.* in the run.

    The audit gets token-length histograms when `tokenizer` (or export.tokenizer) is a local dir.
    """

    if not config.inputs:
        raise InputError("the config lists no inputs", file=config.source_path or "<config>")
    from synth.text.ray_map import on_cluster

    experts = load_experts(config.resolve(config.experts))
    with on_cluster(config.engine):  # engine.kind ray: the off-topic encoding runs on the cluster
        result = ingest_paths(resolve_inputs(config), experts, config.field_map, config.ingest, progress=progress)
    write_jsonl(run.segments, result.segments)
    write_jsonl(run.quarantine, result.quarantined)
    write_audit(result, run.reports, experts=experts, tokenizer=tokenizer or _local_tokenizer(config))
    if not result.segments:
        raise InputError(f"no usable segments among {result.records} records; see "
                         f"{run.quarantine} and {run.reports / 'audit.md'}", file=", ".join(config.inputs))
    return result


def iter_problem_lines(result: IngestResult, limit: int = 50) -> Iterator[str]:
    """The file-level error lines, bounded, for printing."""
    yield from result.errors[:limit]
    if len(result.errors) > limit:
        yield f"... and {len(result.errors) - limit} more (see the audit report)"
