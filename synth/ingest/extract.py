"""One raw record -> a Draft: fields pulled by the file's schema, normalised, cleaned, flagged.

A Draft carries either everything a Segment needs or a structural reason (not_an_object,
invalid_utf8, missing_text, text_not_string, empty_text, too_long, missing_style,
unknown_style) with the field it concerns. Corpus flags and the final decision come later.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import synth.ingest.langid as langid
import synth.ingest.piibulk as piibulk
from synth.experts import ExpertSet, normalise_label
from synth.ingest.clean import Before, CleanResult, before_redaction, clean_text, redact_pii
from synth.ingest.flags import text_flags
from synth.ingest.injection import FLAG as INJECTION
from synth.ingest.injection import find_injection
from synth.ingest.normalise import normalise_confidence, normalise_times
from synth.ingest.readers import LoadedFile, RawRecord
from synth.ingest.schema import FileSchema, json_type, lookup
from synth.text.stats import profile

EXCERPT_CHARS = 500
EXCERPT_MARGIN = 100  # characters past an excerpt's cut that its redaction reads
BUDGET = 4  # an excerpt redacts the record's first BUDGET * EXCERPT_CHARS characters of keys and values
PHONE_DIGITS = 9  # a number with this many digits may be a phone number: it is redacted as text
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass
class Draft:
    source_file: str
    record_index: int | None
    line: int | None
    raw: Any = None
    raw_id: str | None = None
    source_id: str | None = None
    title: str | None = None
    raw_style: str | None = None
    style: str | None = None
    confidence: float | None = None
    confidence_scale: str = "missing"
    min_confidence: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    original_text: str | None = None
    text: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    word_count: int = 0
    word_bounds: tuple[int, int] = (0, 0)  # (min_words, max_words) the length flags used
    flags: list[str] = field(default_factory=list)
    reason: str | None = None
    field_path: str | None = None
    message: str = ""
    duplicate_of: dict[str, int] = field(default_factory=dict)  # flag -> index of kept draft
    flag_messages: dict[str, str] = field(default_factory=dict)  # flag -> message with its figures

    def reject(self, reason: str, field_path: str | None, message: str) -> Draft:
        if self.reason is None:
            self.reason, self.field_path, self.message = reason, field_path, message
        return self


def non_english_message(cleaned: CleanResult) -> str:
    """What decided non_english: lingua's reading, or the function-word ratio without it."""
    stats = cleaned.profile or profile(cleaned.text)
    if langid.available():
        reason = langid.other_language_reason(cleaned.text, stats.words, stats.english)
        return reason or "lingua reads it as another language"
    return (f"few English function words: {stats.english} of {stats.words} words "
            f"({stats.english / max(stats.words, 1):.0%} < 15%; lingua is not installed)")


def _escaped(text: str) -> str:
    """Undecodable bytes (lone surrogates) as backslash escapes: what JSON, SQLite and the NER can take."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(text) else text


def _bounded(text: str, limit: int, whole_up_to: int) -> str:
    """The part of one string value that excerpt_text redacts: all of it up to `whole_up_to`
    characters (the redaction store has the texts ingest redacted), else the first
    limit + EXCERPT_MARGIN (a name or address the excerpt's cut splits is still read whole)."""
    return _escaped(text if len(text) <= whole_up_to else text[:limit + EXCERPT_MARGIN])


def _walk(value: Any, string: Callable[[str], str], budget: list[int]) -> Any:
    """`value` with `string` applied to every key and string value (and to every number of
    PHONE_DIGITS or more digits, kept a number unless `string` changes it), in dump order;
    members past `budget` characters (those no excerpt can show) are left out."""
    if isinstance(value, str):
        budget[0] -= len(value)
        return string(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        digits = str(value)
        budget[0] -= len(digits)
        if sum(c.isdigit() for c in digits) < PHONE_DIGITS:
            return value
        changed = string(digits)
        return value if changed == digits else changed
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if budget[0] <= 0:
                break
            name = string(str(key))
            out[name if name not in out else f"{name} ({len(out)})"] = _walk(item, string, budget)
        return out
    if isinstance(value, list):
        items = []
        for item in value:
            if budget[0] <= 0:
                break
            items.append(_walk(item, string, budget))
        return items
    budget[0] -= len(str(value))
    return value


def excerpt_strings(value: Any, whole_up_to: int, limit: int = EXCERPT_CHARS) -> list[str]:
    """The strings excerpt_text(value) redacts: redact them in one batch first (piibulk.redacted)."""
    found: list[str] = []
    _walk(value, lambda text: found.append(_bounded(text, limit, whole_up_to)) or text, [limit * BUDGET])
    return found


def excerpt_text(value: Any, whole_up_to: int, limit: int = EXCERPT_CHARS) -> str:
    """A bounded JSON excerpt of a raw record, its personal data redacted value by value (keys
    too; a string, such as a line that did not parse, as one value), undecodable bytes escaped.
    Call it inside piibulk.redacted(excerpt_strings(...)) of every excerpt (synth.ingest.stage):
    one batch through the redaction store, where the record's text values are already."""
    def redact(text: str) -> str:
        return redact_pii(_bounded(text, limit, whole_up_to))[0]

    if isinstance(value, str):
        return redact(value)[:limit]
    return json.dumps(_walk(value, redact, [limit * BUDGET]), ensure_ascii=False, default=str)[:limit]


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _undecodable_field(value: Any, path: str = "") -> str | None:
    """Dotted path of the first string holding bytes that were not valid UTF-8."""
    if isinstance(value, str):
        return (path or "(value)") if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _undecodable_field(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


class Extractor:
    """Pulls the fields of every record of one file according to its schema."""

    def __init__(self, loaded: LoadedFile, schema: FileSchema, experts: ExpertSet, max_text_chars: int,
                 workers: int = 0):
        self.loaded, self.schema, self.experts = loaded, schema, experts
        self.max_text_chars, self.workers, self.redacted_now = max_text_chars, workers, 0
        self.labels = experts.label_map()  # normalised label -> expert
        self.min_words = min(e.min_words for e in experts.experts)
        self.max_words = max(e.max_words for e in experts.experts)
        self._before: dict[str, Before] = {}  # raw text -> before_redaction(text), during extract_all

    def _get(self, record: dict[str, Any], role: str) -> tuple[bool, Any]:
        path = self.schema.roles.get(role)
        return lookup(record, self.loaded.file_fields, path) if path else (False, None)

    def extract_all(self, records: Sequence[RawRecord]) -> list[Draft]:
        """extract() for every record, PII redaction done first for all of them at once
        (synth.ingest.piibulk: the machine's store, then a process pool or this process)."""
        self._before = {v: before_redaction(v) for v in map(self._text_value, records) if v is not None}
        try:
            with piibulk.redacted([before[0] for before in self._before.values()], self.workers) as fresh:
                self.redacted_now = fresh
                return [self.extract(raw) for raw in records]
        finally:
            self._before = {}

    def _text_value(self, raw: RawRecord) -> str | None:
        value = self._get(raw.value, "text")[1] if isinstance(raw.value, dict) else None
        if not isinstance(value, str) or not value.strip() or len(value) > self.max_text_chars:
            return None
        return None if _SURROGATE.search(value) else value  # quarantined as invalid_utf8, never redacted

    def extract(self, raw: RawRecord) -> Draft:
        draft = Draft(self.loaded.path, raw.index, raw.line, raw.value)
        record = raw.value
        if not isinstance(record, dict):
            return draft.reject("not_an_object", None, f"record is {json_type(record)}, not an object")
        if self.loaded.has_invalid_utf8:
            bad = _undecodable_field(record)
            if bad:
                return draft.reject("invalid_utf8", bad, "value holds bytes that are not valid UTF-8")
        self._meta(draft, record)
        style_problem = self._style(draft, record)
        self._text(draft, record)
        return draft.reject(*style_problem) if style_problem else draft  # text reasons first

    def _meta(self, draft: Draft, record: dict[str, Any]) -> None:
        draft.raw_id = _scalar(self._get(record, "id")[1])
        draft.source_id = _scalar(self._get(record, "source_id")[1])
        draft.title = _scalar(self._get(record, "title")[1])
        found, value = self._get(record, "confidence")
        draft.confidence, conf_flag = normalise_confidence(value, found, self.schema.confidence_scale)
        draft.confidence_scale = self.schema.confidence_scale if draft.confidence is not None else "missing"
        start_s, end_s, time_flag = normalise_times(
            self._get(record, "start"), self._get(record, "end"), self._get(record, "timestamp"))
        draft.start_s, draft.end_s = start_s, end_s
        draft.flags.extend(f for f in (conf_flag, time_flag) if f)

    def _style(self, draft: Draft, record: dict[str, Any]) -> tuple[str, str | None, str] | None:
        """Map the style label to an expert; returns the (reason, field, message) if it cannot."""
        path = self.schema.roles.get("style")
        found, value = self._get(record, "style")
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = value[0]
        if not found or value is None or (isinstance(value, str) and not value.strip()):
            return "missing_style", path or "style", "no style label (set field_map.style)"
        draft.raw_style = value if isinstance(value, str) else json.dumps(value)
        draft.style = self.labels.get(normalise_label(draft.raw_style)) if isinstance(value, str) else None
        if draft.style is None:
            known = ", ".join(sorted(self.labels))
            return "unknown_style", path, f"label {draft.raw_style!r} maps to no expert (known labels: {known})"
        draft.min_confidence = self.experts.get(draft.style).min_confidence
        return None

    def _text(self, draft: Draft, record: dict[str, Any]) -> None:
        path = self.schema.roles.get("text")
        found, value = self._get(record, "text")
        if path is None:
            draft.reject("missing_text", None, "no text field recognised (set field_map.text)")
            return
        if not found or value is None:
            draft.reject("missing_text", path, "record has no text")
            return
        if not isinstance(value, str):
            draft.reject("text_not_string", path, f"text is {json_type(value)}, not a string")
            return
        draft.original_text = value
        if not value.strip():
            draft.flags.append("empty_text")
            draft.reject("empty_text", path, "text is empty")
            return
        if len(value) > self.max_text_chars:
            draft.flags.append("too_long")
            draft.reject("too_long", path, f"text has {len(value):,} characters "
                         f"(ingest.max_text_chars is {self.max_text_chars:,})")
            return
        self._clean(draft, value)

    def _clean(self, draft: Draft, value: str) -> None:
        cleaned = clean_text(value, self._before.get(value))
        draft.text, draft.redactions = cleaned.text, cleaned.redactions
        draft.word_count = cleaned.profile.words if cleaned.profile else 0
        expert = self.experts.get(draft.style) if draft.style else None
        low = expert.min_words if expert else self.min_words
        high = expert.max_words if expert else self.max_words
        draft.word_bounds = (low, high)
        draft.flags.extend(text_flags(cleaned, low, high))
        if "non_english" in draft.flags:
            draft.flag_messages["non_english"] = non_english_message(cleaned)
        injection = find_injection(value)
        if injection:
            draft.flags.append(INJECTION)
            draft.flag_messages[INJECTION] = injection
