"""Which of an expert's question types a segment supports, for the offline provider.

prompts/question_types.yaml lists cue words per expert and type; a type is supported when one
of its cues occurs in the segment's text or key concepts (whole words, case-insensitive, with
plural and -ing/-ed forms). A model generator makes the same choice itself, in its structured
output (see prompts/generate/*.j2); this is the offline provider's rule for it.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import BaseModel, Field, RootModel

from synth.errors import ConfigError
from synth.files import read_yaml, validate_model
from synth.hashing import content_hash

CUES_FILE = "question_types.yaml"
Cues = dict[str, list[str]]


class TypeCuesFile(RootModel[dict[str, dict[str, list[str]]]]):
    """expert -> question type -> cue words."""


class TypeCues(BaseModel):
    path: str
    hash: str
    by_expert: dict[str, Cues] = Field(default_factory=dict)

    def check(self, expert: str, types: list[str]) -> None:
        """Every type of the expert has cues (names the file and the missing entry)."""
        missing = [t for t in types if t not in self.by_expert.get(expert, {})]
        if missing:
            raise ConfigError(f"no cues for question type(s) {', '.join(missing)}", file=self.path,
                              key=expert)

    def supported(self, expert: str, types: list[str], text: str, concepts: list[str]) -> list[str]:
        """The types this segment supports, most cue hits first (ties: the expert's order);
        all of them when none has a cue in the segment."""
        haystack = " ".join([text, *concepts]).lower()
        hits = {t: sum(1 for cue in self.by_expert.get(expert, {}).get(t, []) if _pattern(cue).search(haystack))
                for t in types}
        found = sorted((t for t in types if hits[t]), key=lambda t: (-hits[t], types.index(t)))
        return found or list(types)


@functools.lru_cache(maxsize=4096)
def _pattern(cue: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in cue.lower().split())
    return re.compile(rf"\b{words}(?:s|es|ing|ed|d)?\b")


def load_type_cues(root: Path) -> TypeCues:
    path = root / CUES_FILE
    data = validate_model(TypeCuesFile, read_yaml(path), str(path))
    return TypeCues(path=str(path), hash=content_hash(path.read_bytes()), by_expert=data.root)
