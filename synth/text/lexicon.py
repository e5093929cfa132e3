"""The domain lexicon of concepts (prompts/concepts.yaml), loaded strictly.

Each entry is a concept name with its kind (one of KINDS: the template slot it may fill) and
its other surface forms; the singular or plural of the last word of a name or of a multi-word
form is matched too. A malformed entry, an unknown key, or a surface form that belongs to two
concepts is a ConfigError naming the file and the entry.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from synth.errors import ConfigError
from synth.files import read_yaml, validate_model
from synth.hashing import content_hash

DEFAULT_LEXICON = Path(__file__).resolve().parents[2] / "prompts" / "concepts.yaml"
KINDS = ("feeling", "pattern", "topic", "practice", "idea")
Kind = Literal["feeling", "pattern", "topic", "practice", "idea"]
Form = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z' -]*[a-z]$")]
Word = Annotated[str, StringConstraints(pattern=r"^[a-z]+$")]
_WORD = re.compile(r"[a-z]+")


def letter_words(text: str) -> list[str]:
    """Lowercase runs of letters, what concept names are matched on (not synth.text.stats'
    whitespace tokens): hyphens and dashes separate words, apostrophes vanish (don't -> dont)."""
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


@dataclass(frozen=True)
class Concept:
    name: str  # what pairs record
    kind: str  # feeling | pattern | topic | practice | idea: the template slot it may fill
    say: str  # how a template says it ("the nervous system")
    in_lexicon: bool = True


class LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeling: dict[Form, list[Form]] = Field(min_length=1)
    pattern: dict[Form, list[Form]] = Field(min_length=1)
    topic: dict[Form, list[Form]] = Field(min_length=1)
    practice: dict[Form, list[Form]] = Field(min_length=1)
    idea: dict[Form, list[Form]] = Field(min_length=1)
    say: dict[Form, Annotated[str, StringConstraints(min_length=2)]] = Field(default_factory=dict)
    broad: list[Form] = Field(default_factory=list)
    never_bare: list[Word] = Field(default_factory=list)
    not_concepts: list[Word] = Field(default_factory=list)


@dataclass(frozen=True)
class Lexicon:
    path: str
    hash: str
    entries: dict[str, Concept]  # name -> concept
    forms: dict[tuple[str, ...], str]  # surface form (tokens) -> name
    longest: int
    broad: frozenset[str]
    not_concepts: frozenset[str]  # never a fallback concept (includes never_bare)
    never_bare: frozenset[str]

    def match(self, words: list[str], start: int) -> tuple[str | None, int]:
        """The concept whose longest surface form starts at words[start], and its length."""
        for size in range(min(self.longest, len(words) - start), 0, -1):
            name = self.forms.get(tuple(words[start:start + size]))
            if name:
                return name, size
        return None, 0

    def name_of(self, text: str) -> str | None:
        """The concept a phrase names exactly (any surface form), or None."""
        return self.forms.get(tuple(letter_words(text)))


def _number_variant(form: tuple[str, ...]) -> tuple[str, ...]:
    last = form[-1]
    return (*form[:-1], last[:-1] if last.endswith("s") else last + "s")


def _add_form(forms: dict[tuple[str, ...], str], form: tuple[str, ...], name: str, where: str,
              file: str) -> None:
    owner = forms.get(form)
    if owner is not None and owner != name:
        raise ConfigError(f"surface form '{' '.join(form)}' also belongs to '{owner}'",
                          file=file, key=where)
    forms[form] = name


def _build(data: LexiconFile, file: str, digest: str) -> Lexicon:
    entries: dict[str, Concept] = {}
    forms: dict[tuple[str, ...], str] = {}
    for kind in KINDS:
        for name, others in getattr(data, kind).items():
            if name in entries:
                raise ConfigError(f"concept '{name}' listed twice", file=file, key=f"{kind}.{name}")
            entries[name] = Concept(name, kind, data.say.get(name, name))
            for form in [name, *others]:
                _add_form(forms, tuple(letter_words(form)), name, f"{kind}.{name}", file)
    for form, name in list(forms.items()):  # automatic singular/plural of names and phrases,
        if len(form) > 1 or form == tuple(letter_words(name)):  # never overriding an explicit form
            forms.setdefault(_number_variant(form), name)
    _check_names(data, entries, forms, file)
    return Lexicon(file, digest, entries, forms, max(len(f) for f in forms),
                   frozenset(data.broad), frozenset(data.not_concepts) | frozenset(data.never_bare),
                   frozenset(data.never_bare))


def _check_names(data: LexiconFile, entries: dict[str, Concept], forms: dict[tuple[str, ...], str],
                 file: str) -> None:
    for key, names in (("say", list(data.say)), ("broad", data.broad)):
        unknown = [n for n in names if n not in entries]
        if unknown:
            raise ConfigError(f"not a concept of the lexicon: {unknown}", file=file, key=key)
    for key, words in (("never_bare", data.never_bare), ("not_concepts", data.not_concepts)):
        clash = sorted(w for w in words if (w,) in forms)
        if clash:
            raise ConfigError(f"listed as concept forms too: {clash}", file=file, key=key)
        if len(set(words)) != len(words):
            raise ConfigError("a word is listed twice", file=file, key=key)


@functools.lru_cache(maxsize=8)
def _load(path: str, digest: str) -> Lexicon:
    raw = read_yaml(Path(path))
    return _build(validate_model(LexiconFile, raw, path), path, digest)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The lexicon at path (default: the shipped prompts/concepts.yaml); cached per content."""
    p = Path(path) if path is not None else DEFAULT_LEXICON
    try:
        digest = content_hash(p.read_bytes())
    except FileNotFoundError:
        raise ConfigError("concept lexicon not found", file=str(p)) from None
    return _load(str(p), digest)
