"""The expert router: which expert (LoRA adapter) should answer a question.

Trained on the export's router dataset (export/router/{train,val}.jsonl, {"text", "label"}):
sentence embeddings (synth.text.embeddings, the `embed` extra) plus a logistic regression, or
TF-IDF plus a logistic regression when the extra is not installed (the featurizer used is
recorded). Saved in the run as router/model.joblib with router/metrics.json (RouterMetrics:
val accuracy, macro-F1, confusion matrix, the val n behind each expert's F1) and
reports/router.html with a confusion plot. Below MIN_VAL_PER_LABEL val questions of some expert
the figures are printed with their n and marked as not a measurement (one question more or less
right moves that expert's recall by over 0.1).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from pydantic import BaseModel, ConfigDict
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from synth.config import RunConfig
from synth.errors import InputError, SynthError
from synth.files import atomic_write_text, read_jsonl
from synth.records import RouterMetrics
from synth.router.report import write_router_html
from synth.rundir import RunDir
from synth.text import embeddings

MODEL_FILE = ("router", "model.joblib")
MIN_VAL_PER_LABEL = 10  # val questions of each expert for the held-out figures to measure


class RouterExample(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str
    label: str


@dataclass
class Route:
    expert: str
    probability: float
    probabilities: dict[str, float]


def read_examples(path: Path) -> list[RouterExample]:
    if not path.exists():
        raise InputError("router dataset not found (run synth export first)", file=str(path))
    return list(read_jsonl(path, RouterExample, torn_tail_ok=False))


class Featurizer:
    """Questions -> feature rows: MiniLM sentence embeddings, or TF-IDF without the extra."""

    def __init__(self, kind: str):
        self.kind = kind
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1) \
            if kind == "tfidf" else None

    def fit_transform(self, texts: list[str]) -> Any:
        if self.vectorizer is not None:
            return self.vectorizer.fit_transform(texts)
        return embeddings.embed(texts)

    def transform(self, texts: list[str]) -> Any:
        if self.vectorizer is not None:
            return self.vectorizer.transform(texts)
        return embeddings.embed(texts)


def default_featurizer() -> str:
    return "minilm" if embeddings.available() else "tfidf"


def evaluate(classifier: LogisticRegression, featurizer: Featurizer, val: list[RouterExample],
             labels: list[str]) -> dict[str, Any]:
    counts = {label: sum(e.label == label for e in val) for label in labels}
    short = {label: n for label, n in counts.items() if n < MIN_VAL_PER_LABEL}
    judged: dict[str, Any] = {"val_per_label": counts, "measured": bool(val) and not short}
    if short:
        judged["note"] = (f"not a measurement: {len(val)} val questions, "
                          + ", ".join(f"{n} {label}" for label, n in short.items())
                          + f" (under {MIN_VAL_PER_LABEL} per expert)")
    if not val:
        return judged
    truth = [e.label for e in val]
    predicted = list(classifier.predict(featurizer.transform([e.text for e in val])))
    per_label = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return judged | {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
        "per_label_f1": {label: float(v) for label, v in zip(labels, per_label)},
    }


def train_router(train: list[RouterExample], val: list[RouterExample], featurizer_kind: str,
                 seed: int = 0) -> tuple[dict[str, Any], RouterMetrics]:
    """Fit the router; returns (saved bundle, held-out metrics)."""
    labels = sorted({e.label for e in train})
    if len(labels) < 2:
        raise SynthError(f"the router needs train questions of at least two experts; got {labels}")
    featurizer = Featurizer(featurizer_kind)
    features = featurizer.fit_transform([e.text for e in train])
    classifier = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced", random_state=seed)
    classifier.fit(features, [e.label for e in train])
    unseen = sorted({e.label for e in val} - set(labels))
    metrics = RouterMetrics(featurizer=featurizer_kind, labels=labels + unseen,  # type: ignore[arg-type]
                            train_count=len(train), val_count=len(val),
                            **evaluate(classifier, featurizer, val, labels + unseen))
    encoder = embeddings.ENCODER_ID if featurizer_kind == "minilm" else None
    return {"featurizer": featurizer, "classifier": classifier, "labels": labels, "encoder": encoder}, metrics


def run_router(config: RunConfig, run: RunDir, featurizer_kind: str | None = None) -> RouterMetrics:
    """Train on export/router/train.jsonl, evaluate on val, save model + metrics + report."""
    train = read_examples(run.path("export", "router", "train.jsonl"))
    val_path = run.path("export", "router", "val.jsonl")
    val = read_examples(val_path) if val_path.exists() else []
    bundle, metrics = train_router(train, val, featurizer_kind or default_featurizer(), config.seed)
    run.ensure("router")
    tmp = run.path(*MODEL_FILE).with_suffix(".joblib.tmp")
    joblib.dump(bundle, tmp)
    tmp.replace(run.path(*MODEL_FILE))
    atomic_write_text(run.router_metrics, metrics.model_dump_json(indent=2))
    write_router_html(run.report("router.html"), metrics)
    return metrics


def load_router(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir).joinpath(*MODEL_FILE)
    if not path.exists():
        raise InputError("no trained router (run synth router CONFIG or synth run)", file=str(path))
    try:
        bundle = joblib.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, AttributeError, ImportError) as exc:
        raise InputError(f"unreadable router model ({type(exc).__name__}: {exc}); retrain it with "
                         "synth router CONFIG", file=str(path)) from None
    if not isinstance(bundle, dict) or not {"featurizer", "classifier"} <= bundle.keys():
        raise InputError("not a synth router model; retrain it with synth router CONFIG", file=str(path))
    trained_with = bundle.get("encoder", "all-MiniLM-L6-v2 (PyTorch fp32)")
    if bundle["featurizer"].kind == "minilm" and trained_with != embeddings.ENCODER_ID:
        raise InputError(f"the router was trained on {trained_with} vectors and this synth encodes with "
                         f"{embeddings.ENCODER_ID}: its features would not match; retrain it with "
                         "synth router CONFIG", file=str(path))
    return bundle


def route(bundle: dict[str, Any], question: str) -> Route:
    """The expert for one question and its probability."""
    if not question.strip():
        raise SynthError("the question is empty")
    featurizer: Featurizer = bundle["featurizer"]
    probabilities = bundle["classifier"].predict_proba(featurizer.transform([question]))[0]
    classes = [str(c) for c in bundle["classifier"].classes_]
    best = int(np.argmax(probabilities))
    return Route(expert=classes[best], probability=float(probabilities[best]),
                 probabilities={c: float(p) for c, p in zip(classes, probabilities)})
