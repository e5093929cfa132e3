"""Schema inference for one export file: which (dotted) field holds each role.

Roles: text, style, confidence, source_id, title, start, end, timestamp (an "HH:MM:SS -
HH:MM:SS" range) and id. A `field_map` (role -> dotted path) overrides inference; a path
that a record lacks is looked up in the file-level object (e.g. a file-wide "style").
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from synth.errors import ConfigError

ROLES = ("text", "style", "confidence", "source_id", "title", "start", "end", "timestamp", "id")
ROLE_ALIASES = {"source": "source_id", "video_id": "source_id", "source_title": "title",
                "segment_id": "id", "raw_id": "id", "label": "style", "time": "timestamp"}
RECORDS_KEY = "records"  # field_map key naming the list of records inside a JSON object
EXAMPLE_CHARS = 60  # an example's length in the reports
EXAMPLE_MARGIN = 100  # characters past the cut that the example's redaction reads

_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("text", "segmenttext", "transcript", "content", "body", "utterance", "caption",
             "segment", "answer", "passage", "sentence"),
    "style": ("style", "communicationstyle", "stylelabel", "label", "labels", "category",
              "expert", "tone", "class"),
    "confidence": ("confidence", "confidencescore", "styleconfidence", "conf", "score",
                   "probability", "prob"),
    "source_id": ("videoid", "sourceid", "youtubeid", "episodeid", "mediaid", "vid",
                  "documentid", "source"),
    "title": ("title", "sourcetitle", "videotitle", "episodetitle", "episode", "name"),
    "start": ("start", "starts", "startseconds", "startsec", "starttime", "begin", "from"),
    "end": ("end", "ends", "endseconds", "endsec", "endtime", "stop", "to"),
    "timestamp": ("timestamp", "timestamps", "timerange", "timecode", "span", "time"),
    "id": ("segmentid", "id", "uid", "recordid", "key", "uuid"),
}
_KINDS = {"text": "string", "style": "string", "title": "string", "confidence": "number",
          "start": "number", "end": "number", "timestamp": "string", "source_id": "scalar",
          "id": "scalar"}
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*%?\s*$")


class FieldStats(BaseModel):
    field: str
    type: str  # most common JSON type, e.g. "string", "number", "string|number"
    presence: float  # % of records where the field is present and not null
    example: str  # the value's start, personal data NOT redacted: reports show redacted()'s
    _source: str = PrivateAttr("")  # the value up to EXAMPLE_CHARS + EXAMPLE_MARGIN: what redaction reads

    def redaction_source(self) -> str:
        return self._source or self.example

    def redacted(self, redact: Callable[[str], str]) -> FieldStats:
        """A copy whose example is cut from the redacted source (a name the cut splits is still found)."""
        return self.model_copy(update={"example": _cut(redact(self.redaction_source()))})


class FileSchema(BaseModel):
    fields: list[FieldStats] = Field(default_factory=list)
    file_fields: list[FieldStats] = Field(default_factory=list)  # object-level fields
    roles: dict[str, str] = Field(default_factory=dict)  # role -> dotted path
    mapped: list[str] = Field(default_factory=list)  # roles that came from field_map
    confidence_scale: Literal["unit", "percent", "missing"] = "missing"
    warnings: list[str] = Field(default_factory=list)

    def redaction_sources(self) -> list[str]:
        """What redacted() redacts: batch them first (piibulk.redacted)."""
        return [s.redaction_source() for s in (*self.fields, *self.file_fields)]

    def redacted(self, redact: Callable[[str], str]) -> FileSchema:
        """A copy whose examples have their personal data redacted, for the reports."""
        return self.model_copy(update={"fields": [s.redacted(redact) for s in self.fields],
                                       "file_fields": [s.redacted(redact) for s in self.file_fields]})


def normalise_field_map(field_map: Mapping[str, str] | None, where: str = "field_map") -> dict[str, str]:
    """Canonical role names; an unknown role raises ConfigError naming the key."""
    result: dict[str, str] = {}
    for key, path in (field_map or {}).items():
        role = ROLE_ALIASES.get(key, key)
        if role not in ROLES and role != RECORDS_KEY:
            known = ", ".join((*ROLES, RECORDS_KEY))
            raise ConfigError(f"unknown field role {key!r}; known roles: {known}", key=f"{where}.{key}")
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("field path must be a non-empty dotted path", key=f"{where}.{key}")
        result[role] = path.strip()
    return result


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def flatten(record: Mapping[str, Any], prefix: str = "", depth: int = 3) -> dict[str, Any]:
    """Dotted path -> leaf value (objects are descended `depth` levels)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth > 1:
            flat.update(flatten(value, f"{path}.", depth - 1))
        else:
            flat[path] = value
    return flat


def get_path(record: Any, path: str) -> tuple[bool, Any]:
    """(found, value) for a dotted path; an exact key with dots wins over descent."""
    if isinstance(record, Mapping) and path in record:
        return True, record[path]
    if "." not in path:
        return False, None
    node = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def field_stats(records: Sequence[Mapping[str, Any]], sample: int = 2000) -> list[FieldStats]:
    """Per dotted field: type, presence % and an example (over at most `sample` records)."""
    rows = [flatten(r) for r in records[:sample]]
    present: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    for row in rows:
        for path, value in row.items():
            types.setdefault(path, Counter())[json_type(value)] += 1
            if value is not None:
                present[path] += 1
                examples.setdefault(path, _example_source(value))
    total = max(len(rows), 1)
    stats = []
    for path, counter in types.items():
        source = examples.get(path, "")
        stats.append(FieldStats(field=path, type="|".join(t for t, _ in counter.most_common() if t != "null")
                                or "null", presence=round(100 * present[path] / total, 1), example=_cut(source)))
        stats[-1]._source = source
    return stats


def _example_source(value: Any) -> str:
    """The start of a value as text (undecodable bytes escaped), long enough to redact."""
    text = value if isinstance(value, str) else repr(value)
    text = text[:EXAMPLE_CHARS + EXAMPLE_MARGIN]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cut(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


def _leaf_key(path: str) -> str:
    return re.sub(r"[^a-z0-9]", "", path.rsplit(".", 1)[-1].lower())


def _fits(kind: str, stats: FieldStats) -> bool:
    types = set(stats.type.split("|"))
    if kind == "string":
        return "string" in types
    if kind == "number":
        return bool(types & {"number", "string"})
    return bool(types & {"number", "string"})


def _by_name(role: str, stats: Iterable[FieldStats], taken: set[str]) -> str | None:
    candidates = [s for s in stats if s.field not in taken and _fits(_KINDS[role], s)]
    for name in _NAMES[role]:
        matches = [s for s in candidates if _leaf_key(s.field) == name]
        if matches:
            return max(matches, key=lambda s: (s.presence, -s.field.count("."))).field
    return None


def _longest_string_field(records: Sequence[Mapping[str, Any]], stats: list[FieldStats],
                          taken: set[str]) -> str | None:
    """Content fallback for the text role: the string field with the longest mean length."""
    best, best_len = None, 20.0
    for s in stats:
        if s.field in taken or "string" not in s.type.split("|"):
            continue
        lengths = [len(v) for r in records[:500] for f, v in [get_path(r, s.field)] if f and isinstance(v, str)]
        if lengths and statistics.fmean(lengths) > best_len:
            best, best_len = s.field, statistics.fmean(lengths)
    return best


def _label_field(records: Sequence[Mapping[str, Any]], stats: list[FieldStats], taken: set[str],
                 is_label: Any) -> str | None:
    """Content fallback for style: a string field whose values are mostly known labels."""
    for s in stats:
        if s.field in taken or "string" not in s.type.split("|"):
            continue
        values = [v for r in records[:500] for f, v in [get_path(r, s.field)] if f and isinstance(v, str)]
        if values and sum(1 for v in values if is_label(v)) >= 0.5 * len(values):
            return s.field
    return None


def infer_roles(records: Sequence[Mapping[str, Any]], stats: list[FieldStats],
                file_stats: list[FieldStats], is_label: Any) -> dict[str, str]:
    """role -> dotted path by field names, then by content (text, style)."""
    roles: dict[str, str] = {}
    taken: set[str] = set()
    for role in ROLES:
        path = _by_name(role, stats, taken) or (_by_name(role, file_stats, taken)
                                                if role in ("style", "source_id", "title") else None)
        if role == "text" and path is None:
            path = _longest_string_field(records, stats, taken)
        if role == "style" and path is None:
            path = _label_field(records, stats, taken, is_label)
        if path is not None:
            roles[role] = path
            taken.add(path)
    if "start" in roles and "end" not in roles:
        del roles["start"]  # a lone start without end is not a time range
    return roles


def parse_number(value: Any) -> float | None:
    """A float from a number or numeric string ("87.5", "87.5%"); None if not numeric."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value.strip().rstrip("%").strip())
    return None


def detect_confidence_scale(values: Iterable[Any]) -> Literal["unit", "percent", "missing"]:
    """unit (0-1) or percent (0-100) by the median of the numeric values (robust to outliers)."""
    values = list(values)
    numbers = [n for n in (parse_number(v) for v in values) if n is not None and math.isfinite(n)]
    percent_strings = any(isinstance(v, str) and v.strip().endswith("%") for v in values)
    if not numbers:
        return "missing"
    return "percent" if percent_strings or statistics.median(numbers) > 1.0 else "unit"


def build_schema(records: Sequence[Mapping[str, Any]], file_fields: Mapping[str, Any],
                 field_map: Mapping[str, str], is_label: Any) -> FileSchema:
    """Infer the schema of one file; field_map roles override inference."""
    stats = field_stats(records)
    file_stats = field_stats([file_fields]) if file_fields else []
    roles = infer_roles(records, stats, file_stats, is_label)
    mapped = [role for role in field_map if role in ROLES]
    for role in mapped:
        roles[role] = field_map[role]
    if "timestamp" in roles and "start" in roles and "timestamp" not in mapped:
        del roles["timestamp"]  # separate start/end beat an inferred range field
    schema = FileSchema(fields=stats, file_fields=file_stats, roles=roles, mapped=mapped)
    schema.warnings.extend(_mapping_warnings(records, file_fields, field_map, mapped))
    if "confidence" in roles:
        schema.confidence_scale = detect_confidence_scale(
            v for r in records for f, v in [lookup(r, file_fields, roles["confidence"])] if f)
    return schema


def _mapping_warnings(records: Sequence[Mapping[str, Any]], file_fields: Mapping[str, Any],
                      field_map: Mapping[str, str], mapped: list[str]) -> list[str]:
    sample = records[:200]
    return [f"field_map {role}: path {field_map[role]!r} is in no record of this file"
            for role in mapped
            if sample and not any(lookup(r, file_fields, field_map[role])[0] for r in sample)]


def lookup(record: Mapping[str, Any], file_fields: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """A record's value at path, else the file-level value at path."""
    found, value = get_path(record, path)
    if found and value is not None:
        return found, value
    file_found, file_value = get_path(file_fields, path) if file_fields else (False, None)
    return (True, file_value) if file_found else (found, value)
