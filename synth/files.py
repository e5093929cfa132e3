"""File IO shared by every stage: YAML (strict, one-line errors), JSONL (atomic whole-file writes,
crash-safe appends, reads that name file, line and field), SQLite stores (a broken file is named),
an exclusive lock between processes."""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from synth.errors import ConfigError, InputError

T = TypeVar("T", bound=BaseModel)


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join("validate" if part == "validate_" else str(part) for part in loc)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {yaml_problem(exc)}", file=str(path)) from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: what is wrong and where, without PyYAML's source excerpt."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def validate_model(model: type[BaseModel], data: Any, file: str) -> Any:
    """Validate data against a pydantic model; the first error names file and key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_path(first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{first['msg']}{more}", file=file, key=key) from None


def connect_sqlite(path: Path, *, read_only: bool = False,
                   **kwargs: float | str | None) -> sqlite3.Connection:
    """Open one of the run's SQLite stores; a file that is not SQLite raises InputError naming it."""
    target, uri = (f"file:{path}?mode=ro", True) if read_only else (str(path), False)
    db = sqlite3.connect(target, uri=uri, **kwargs)  # type: ignore[arg-type]
    try:
        db.execute("PRAGMA schema_version")  # reads the header: fails here, not mid-run
    except sqlite3.DatabaseError as exc:
        db.close()
        raise InputError(f"not a usable SQLite database ({exc}); move it aside to start this store "
                         "afresh", file=str(path)) from None
    return db


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `.<name>.lock` beside `path` (other processes wait on it), e.g.
    so that one of many processes builds a cached file while the others wait and then read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(f".{path.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def atomic_write_text(path: Path, text: str) -> Path:
    """Write via a temp file + rename so a kill never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_jsonl(path: Path, records: Iterable[BaseModel]) -> int:
    """Write records as JSONL atomically (whole-file outputs)."""
    lines = [r.model_dump_json() for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


class JsonlAppender:
    """Append records one line at a time, flushed per line (crash loses at most one line)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _repair_tail(path)
        self._fh = path.open("a", encoding="utf-8")

    def append(self, record: BaseModel) -> None:
        self._fh.write(record.model_dump_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _repair_tail(path: Path) -> None:
    """Cut a partial last line left by a kill -9, so appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if data.endswith(b"\n"):
            return
        fh.truncate(data.rfind(b"\n") + 1)


def count_records(path: Path) -> int | None:
    """Non-blank lines of a JSONL file (records, without parsing them); None when it is missing."""
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def read_jsonl(path: Path, model: type[T], *, missing_ok: bool = True,
               torn_tail_ok: bool = True) -> Iterator[T]:
    """Read JSONL records of a model; blank lines are skipped, and so is a torn last line
    (no newline, as a kill -9 leaves it) when torn_tail_ok. Any other bad line raises
    InputError naming the file, line and field."""
    if not path.exists():
        if missing_ok:
            return
        raise InputError("file not found", file=str(path))
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        torn = torn_tail_ok and number == len(lines) and not line.endswith("\n")
        try:
            record = parse_jsonl_line(line, model, path, number)
        except InputError:
            if torn:
                return
            raise
        yield record


def parse_jsonl_line(line: str, model: type[T], path: Path, number: int) -> T:
    """One JSONL line as a model; InputError names file, line and the first bad field."""
    try:
        return model.model_validate(json.loads(line))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (column {exc.colno})", file=str(path), line=number) from None
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        field = ".".join(str(part) for part in errors[0]["loc"]) or None
        raise InputError(f"invalid {model.__name__} record: {errors[0]['msg']}{more}", file=str(path),
                         line=number, field=field) from None
