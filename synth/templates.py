"""The one strict loader for prompt templates (prompts/) and rubric files (judges/).

A template that uses a variable it was not given raises TemplateError naming the variable
and the file. Every loaded file carries a content hash that outputs record.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from synth.errors import TemplateError
from synth.hashing import content_hash


@dataclass(frozen=True)
class PromptTemplate:
    path: str
    source: str
    hash: str
    variables: frozenset[str]

    def render(self, **values: Any) -> str:
        missing = sorted(self.variables - values.keys())
        if missing:
            raise TemplateError(f"missing variable(s) {', '.join(missing)}", file=self.path)
        try:
            return _compiled(self.source).render(**values)
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"undefined value while rendering: {exc.message}", file=self.path) from None


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                          trim_blocks=True, lstrip_blocks=True, autoescape=False)


@lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """Compile each template source once (rendering is on the per-request hot path)."""
    return _ENV.from_string(source)


def load_template(path: str | Path) -> PromptTemplate:
    """Load a Jinja2 template file strictly; syntax errors name the file and line."""
    p = Path(path)
    try:
        source = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found", file=str(p)) from None
    try:
        ast = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}", file=str(p)) from None
    return PromptTemplate(str(p), source, content_hash(source), frozenset(meta.find_undeclared_variables(ast)))
