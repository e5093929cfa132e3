"""The one content-hash helper: sha256 prefixes that name a prompt, rubric, tokenizer or request."""
from __future__ import annotations

import hashlib
from pathlib import Path

from synth.errors import TemplateError


def content_hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def file_hash(path: str | Path) -> str:
    try:
        return content_hash(Path(path).read_bytes())
    except FileNotFoundError:
        raise TemplateError("file not found", file=str(path)) from None
