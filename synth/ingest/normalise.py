"""Normalisation of record fields: confidence to 0-1, timestamps to seconds.

Each function returns the normalised value plus the quality flag it raises (or None), so the
caller never has to guess why a value is missing.
"""
from __future__ import annotations

import math
import re
from typing import Any, Literal

from synth.ingest.schema import parse_number

Scale = Literal["unit", "percent", "missing"]

_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)\s*$")
_RANGE_SPLIT = re.compile(r"\s*(?:-->|–|—|\bto\b|-)\s*")


def normalise_confidence(value: Any, found: bool, scale: Scale) -> tuple[float | None, str | None]:
    """(confidence in 0-1 or None, flag): confidence_missing / confidence_out_of_range."""
    if not found or value is None:
        return None, "confidence_missing"
    number = parse_number(value)
    if number is None:  # "n/a", "", lists, ...
        return None, "confidence_missing"
    if math.isnan(number) or math.isinf(number):
        return None, "confidence_out_of_range"
    percent = scale == "percent" or (isinstance(value, str) and value.strip().endswith("%"))
    unit = number / 100.0 if percent else number
    if not 0.0 <= unit <= 1.0:
        return None, "confidence_out_of_range"
    return round(unit, 6), None


def parse_clock(text: str) -> float | None:
    """'HH:MM:SS', 'MM:SS' (optional .ms or ,ms) -> seconds; None when malformed."""
    match = _CLOCK.match(text)
    if not match:
        return None
    hours, minutes, seconds = match.group(1), int(match.group(2)), float(match.group(3).replace(",", "."))
    if seconds >= 60 or (hours is not None and minutes >= 60):
        return None
    return int(hours or 0) * 3600 + minutes * 60 + seconds


def parse_time_value(value: Any) -> float | None:
    """Seconds from a number, a numeric string or a clock string."""
    number = parse_number(value)
    if number is not None:
        return number if math.isfinite(number) else None
    return parse_clock(value) if isinstance(value, str) else None


def parse_range(value: Any) -> tuple[float | None, float | None] | None:
    """'HH:MM:SS - HH:MM:SS' -> (start, end); None when it is not a readable range."""
    if not isinstance(value, str):
        return None
    parts = [p for p in _RANGE_SPLIT.split(value.strip(), maxsplit=1) if p]
    if len(parts) != 2:
        return None
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    return None if start is None or end is None else (start, end)


def normalise_times(start: tuple[bool, Any], end: tuple[bool, Any], span: tuple[bool, Any]
                    ) -> tuple[float | None, float | None, str | None]:
    """(start_s, end_s, flag) from separate start/end fields or a range field.

    Absent timestamps are not a flag; unreadable ones, negative ones and ranges that end
    before (or when) they start are `bad_timestamps` and come back as None.
    """
    if span[0] and span[1] is not None:
        parsed = parse_range(span[1])
        if parsed is None:
            return None, None, "bad_timestamps"
        start_s, end_s = parsed
    elif (start[0] and start[1] is not None) or (end[0] and end[1] is not None):
        start_s, end_s = parse_time_value(start[1]), parse_time_value(end[1])
        if start_s is None or end_s is None:
            return None, None, "bad_timestamps"
    else:
        return None, None, None
    if start_s < 0 or end_s <= start_s:
        return None, None, "bad_timestamps"
    return start_s, end_s, None
