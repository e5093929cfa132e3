"""The content-hash helpers: sha256 prefixes that name a prompt, rubric, tokenizer or request, and
the full sha256 of a file (the export manifest's file list)."""
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


def file_sha256(path: Path) -> str:
    """The full sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
