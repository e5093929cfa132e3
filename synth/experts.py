"""The expert definitions (configs/experts.yaml): one LoRA expert per communication style."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synth.errors import ConfigError
from synth.files import read_yaml, validate_model


class ExpertTraining(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    learning_rate: float = Field(1.5e-4, gt=0)
    lora_r: int = Field(16, ge=1, le=256)
    lora_alpha: int | None = None  # default 2r
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    epochs: int = Field(3, ge=1)


class Expert(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    labels: list[str]  # source style labels this expert takes (compared case-insensitively)
    description: str
    response_patterns: list[str]
    question_types: list[str]
    min_confidence: float = Field(0.5, ge=0, le=1)
    min_words: int = Field(40, ge=1)
    max_words: int = Field(600, ge=1)
    boundaries: list[str]
    system_prompt: str
    training: ExpertTraining = Field(default_factory=ExpertTraining)

    @model_validator(mode="after")
    def _bounds(self) -> Expert:
        if self.min_words >= self.max_words:
            raise ValueError("min_words must be below max_words")
        return self


class ExpertSet(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    experts: list[Expert]

    @model_validator(mode="after")
    def _unique(self) -> ExpertSet:
        names = [e.name for e in self.experts]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate expert names in {names}")
        seen: dict[str, str] = {}
        for expert in self.experts:
            for label in expert.labels:
                key = normalise_label(label)
                if key in seen and seen[key] != expert.name:
                    raise ValueError(f"label {label!r} maps to both {seen[key]} and {expert.name}")
                seen[key] = expert.name
        return self

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.experts]

    def get(self, name: str) -> Expert:
        for expert in self.experts:
            if expert.name == name:
                return expert
        raise ConfigError(f"unknown expert {name!r}; known: {', '.join(self.names)}", key="experts")

    def label_map(self) -> dict[str, str]:
        """normalised source label -> expert name (the expert's own name always maps)."""
        mapping = {normalise_label(e.name): e.name for e in self.experts}
        for expert in self.experts:
            mapping.update({normalise_label(label): expert.name for label in expert.labels})
        return mapping

    def expert_for_label(self, raw_label: str) -> str | None:
        return self.label_map().get(normalise_label(raw_label))


def normalise_label(label: str) -> str:
    """Case, whitespace, '-' and '_' insensitive label key."""
    return " ".join(label.replace("_", " ").replace("-", " ").split()).casefold()


def load_experts(path: str | Path) -> ExpertSet:
    data = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping with an 'experts' list", file=str(path))
    return validate_model(ExpertSet, data, str(path))
