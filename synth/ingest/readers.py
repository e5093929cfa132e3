"""Finding and reading export files: JSON (a list, or an object holding one) and JSONL.

Reading never stops at the first problem. Each file-level problem becomes one InputError
message naming the file and line; each chunk that cannot be parsed (a whole non-JSON file,
a truncated tail, a bad JSONL line) becomes one `Unreadable` unit that ingest quarantines,
and every record read before or after it still goes through.
"""
from __future__ import annotations

import glob
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import InputError
from synth.ingest.schema import get_path

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_LIST_KEYS = ("segments", "records", "data", "items", "results", "rows", "entries")
_GLOB_CHARS = re.compile(r"[*?\[]")
_DECODER = json.JSONDecoder()


@dataclass
class RawRecord:
    index: int  # position among the file's records (0-based)
    value: Any
    line: int | None = None


@dataclass
class Unreadable:
    line: int | None
    reason: str  # not_json, truncated_json, invalid_json, wrong_top_level
    message: str
    excerpt: str


@dataclass
class LoadedFile:
    path: str
    format: str = "json"
    records: list[RawRecord] = field(default_factory=list)
    file_fields: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    has_invalid_utf8: bool = False

    def fail(self, reason: str, message: str, text: str, pos: int, *, unit: bool = True) -> None:
        line = text.count("\n", 0, pos) + 1
        self.errors.append(str(InputError(message, file=self.path, line=line)))
        if unit:
            self.unreadable.append(Unreadable(line, reason, message, text[pos:pos + 300]))


def discover(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files named by paths, directories (searched recursively) and globs; plus path errors."""
    found: dict[Path, None] = {}
    errors: list[str] = []
    for raw in paths:
        files, problem = _expand(raw)
        if problem:
            errors.append(str(InputError(problem, file=raw)))
        found.update(dict.fromkeys(files))
    return list(found), errors


def _expand(raw: str) -> tuple[list[Path], str | None]:
    path = Path(raw)
    if _GLOB_CHARS.search(raw) and not path.exists():
        matches = [Path(m) for m in sorted(glob.glob(raw, recursive=True))]
        files = [f for m in matches for f in (_json_files(m) if m.is_dir() else [m])
                 if f.is_file() and f.suffix.lower() in JSON_SUFFIXES]
        return files, None if files else "no .json or .jsonl files match this pattern"
    if path.is_dir():
        files = _json_files(path)
        return files, None if files else "directory has no .json or .jsonl files"
    if path.is_file():
        return [path], None
    return [], "no such file or directory"


def _loads(text: str) -> Any:
    """json.loads; a document nested deeper than the parser can follow is a JSONDecodeError too."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text, 0) from None


def _raw_decode(text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text, pos) from None


def _json_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in JSON_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(directory).parts))


def load_file(path: Path, records_path: str | None = None) -> LoadedFile:
    """Read one export file; problems are collected on the result, never raised."""
    loaded = LoadedFile(str(path), "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "json")
    try:
        data = path.read_bytes()
    except OSError as exc:
        loaded.errors.append(str(InputError(f"cannot read: {exc.strerror or exc}", file=str(path))))
        return loaded
    text = _decode(data, loaded)
    if not text.strip():
        loaded.fail("empty_file", "empty file: no records", text, 0, unit=False)
    elif loaded.format == "jsonl":
        _parse_jsonl(text, loaded, records_path)
    else:
        _parse_json(text, loaded, records_path)
    return loaded


def _decode(data: bytes, loaded: LoadedFile) -> str:
    """UTF-8 (BOM tolerated); undecodable bytes become lone surrogates and one error line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        loaded.has_invalid_utf8 = True
        line = data.count(b"\n", 0, exc.start) + 1
        loaded.errors.append(str(InputError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); records holding "
            "undecodable bytes are quarantined as invalid_utf8", file=loaded.path, line=line)))
        return data.decode("utf-8", errors="surrogateescape")


def _parse_json(text: str, loaded: LoadedFile, records_path: str | None) -> None:
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _looks_like_jsonl(text):
            loaded.format = "jsonl"
            _parse_jsonl(text, loaded, records_path)
        else:
            _salvage(text, exc, loaded)
        return
    _from_document(document, text, loaded, records_path)


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        _loads(first)
    except json.JSONDecodeError:
        return False
    return True


def _from_document(document: Any, text: str, loaded: LoadedFile, records_path: str | None) -> None:
    if isinstance(document, list):
        loaded.records = [RawRecord(i, value) for i, value in enumerate(document)]
        return
    if not isinstance(document, dict):
        kind = {str: "a string", bool: "a boolean", type(None): "null"}.get(type(document), "a number")
        loaded.fail("wrong_top_level", f"top level is {kind}; expected a list of records or an "
                    "object holding one", text, 0)
        return
    key = records_path or _records_key(document)
    found, items = get_path(document, key) if key else (False, None)
    if not found or not isinstance(items, list):
        keys = ", ".join(list(document)[:10]) or "none"
        hint = f"path {records_path!r} is not a list" if records_path else f"keys: {keys}"
        loaded.fail("wrong_top_level", f"object holds no list of records ({hint}); set "
                    "field_map.records to the list's path", text, 0)
        return
    loaded.file_fields = {k: v for k, v in document.items() if k != key.split(".")[0]}
    loaded.records = [RawRecord(i, value) for i, value in enumerate(items)]


def _records_key(document: dict[str, Any]) -> str | None:
    for key in _LIST_KEYS:
        if isinstance(document.get(key), list):
            return key
    lists = [(len(v), k) for k, v in document.items()
             if isinstance(v, list) and v and sum(isinstance(x, dict) for x in v) >= len(v) / 2]
    return max(lists)[1] if lists else None


def _parse_jsonl(text: str, loaded: LoadedFile, records_path: str | None) -> None:
    failures: list[tuple[int, json.JSONDecodeError]] = []
    pos = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                loaded.records.append(RawRecord(len(loaded.records), _loads(line), number))
            except json.JSONDecodeError as exc:
                failures.append((pos, exc))
        pos += len(line) + 1
    if not failures and len(loaded.records) == 1 and isinstance(loaded.records[0].value, list):
        document, loaded.records = loaded.records[0].value, []  # a JSON list saved as .jsonl
    else:
        document = _whole_document(text) if failures and not loaded.records else None
    if document is not None:  # a JSON document saved as .jsonl
        loaded.format = "json"
        _from_document(document, text, loaded, records_path)
        return
    for start, exc in failures:
        reason = "not_json" if not loaded.records and len(failures) == 1 else "invalid_json"
        loaded.fail(reason, f"not valid JSON (column {exc.colno}: {exc.msg})", text, start)


def _whole_document(text: str) -> Any:
    """The parsed document when the whole text is one JSON value, else None."""
    try:
        return _loads(text)
    except json.JSONDecodeError:
        return None


def _salvage(text: str, exc: json.JSONDecodeError, loaded: LoadedFile) -> None:
    """Keep every complete record of a broken JSON list; quarantine the broken chunks."""
    opening = re.search(r"\[\s*\{", text)
    if opening is None or not text.lstrip().startswith(("[", "{")):
        json_like = text.lstrip().startswith(("[", "{", '"'))
        reason = "truncated_json" if json_like and _is_truncated(text) else "not_json"
        what = "truncated" if reason == "truncated_json" else "not JSON"
        loaded.fail(reason, f"{what} (line {exc.lineno}, column {exc.colno}: {exc.msg})", text,
                    exc.pos if reason == "truncated_json" else 0)
        return
    if text.lstrip().startswith("{"):
        loaded.file_fields = _prefix_fields(text, opening.start())
    pos: int | None = opening.start() + 1
    while pos is not None:
        pos = _read_items(text, pos, loaded)


def _is_truncated(text: str) -> bool:
    """A JSON document that does not end with a closing bracket was cut off."""
    return not text.rstrip().endswith(("]", "}"))


def _prefix_fields(text: str, list_start: int) -> dict[str, Any]:
    """Object-level fields written before the records list (e.g. a file-wide style)."""
    prefix = text[:list_start]
    key = re.search(r'"([^"]+)"\s*:\s*$', prefix)
    try:
        document = _loads(prefix + "[]}")
    except json.JSONDecodeError:
        return {}
    return {k: v for k, v in document.items() if not key or k != key.group(1)}


def _read_items(text: str, pos: int, loaded: LoadedFile) -> int | None:
    """Decode list items from pos; on a broken item, quarantine it and resume at the next one."""
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            loaded.fail("truncated_json", f"truncated: the list of records is not closed after "
                        f"{len(loaded.records)} complete record(s)", text, pos, unit=False)
            return None
        if text[pos] == "]":
            return None
        try:
            value, end = _raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return _broken_item(text, pos, f"column {exc.colno}: {exc.msg}", loaded)
        loaded.records.append(RawRecord(len(loaded.records), value, text.count("\n", 0, pos) + 1))
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] != "]":
            return _broken_item(text, pos, "expected ',' or ']' after a record", loaded)


def _broken_item(text: str, pos: int, detail: str, loaded: LoadedFile) -> int | None:
    """Quarantine the chunk at pos; resume at the next record indented like this one."""
    indent = text[text.rfind("\n", 0, pos) + 1:pos]
    resume = None
    if not indent.strip():
        resume = re.compile("\n" + re.escape(indent) + r"\{").search(text, pos + 1)
    if resume is not None:
        loaded.fail("invalid_json", f"not valid JSON ({detail}); skipped to the next record", text, pos)
        return resume.start() + 1
    if _is_truncated(text):
        loaded.fail("truncated_json", f"truncated: the JSON ends inside a record after "
                    f"{len(loaded.records)} complete record(s)", text, pos)
    else:
        loaded.fail("invalid_json", f"not valid JSON ({detail}); the rest of the file is skipped",
                    text, pos)
    return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
