"""The strict pydantic bases: hand-off records (synth.records) and config sections (synth.config)
refuse unknown keys; and the two helpers every record shares (a UTC timestamp, a stable id)."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are an error; validators are built on first use (a fast CLI start)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Record(Strict):
    """Base for hand-off records: strict about unknown fields."""


class Section(Strict):
    """Base for config sections: a misspelt key is an error naming it."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stable_id(*parts: str, length: int = 16) -> str:
    """A short, stable hex id from the given parts (order matters)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]
