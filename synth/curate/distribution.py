"""Expert distribution analysis of the curated pairs: reports/distribution.html with PNG plots.

Per expert: train/val counts and exclusions by reason, judge score distributions, and style
consistency: the cosine distance of each answer to its expert's centroid, and the share of
answers that sit closer to another expert's centroid ("closer to other"). The space is
all-MiniLM-L6-v2 sentence embeddings when the embed extra is installed, else TF-IDF
(word 1-2 grams, L2-normalised); the report says which. Too little volume is warned about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from synth.experts import ExpertSet
from synth.files import atomic_write_text
from synth.records import CuratedPair, ExcludedPair
from synth.reports import plots
from synth.reports.html import esc, html_page, html_table
from synth.rundir import RunDir
from synth.text import embeddings


def answer_space(
    pairs: Sequence[CuratedPair], known: dict[str, np.ndarray], use_embeddings: bool = True
) -> tuple[Any, str]:
    """One L2-normalised row per pair, and the name of the space."""
    if not pairs:
        return np.zeros((0, 1), dtype=np.float32), "none"
    if use_embeddings and embeddings.available():
        missing = sorted({p.pair.segment_id for p in pairs} - known.keys())
        vectors = dict(known)
        answers = {p.pair.segment_id: p.pair.answer for p in pairs}
        vectors.update(zip(missing, embeddings.embed([answers[s] for s in missing])))
        return np.stack([vectors[p.pair.segment_id] for p in pairs]), "all-MiniLM-L6-v2 embeddings"
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True).fit_transform(
        [p.pair.answer for p in pairs]
    )
    why = (
        "embed extra not installed"
        if use_embeddings
        else "semantic embeddings off (curate.semantic)"
    )
    return matrix, f"TF-IDF ({why})"  # sparse, rows already L2-normalised


def style_consistency(vectors: Any, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per expert: mean and p90 cosine distance to own centroid, share closer to another."""
    names = sorted(set(labels))
    label_array = np.asarray(labels)
    rows_of = {n: np.flatnonzero(label_array == n) for n in names}
    centroids = np.stack(
        [_unit(np.asarray(vectors[rows_of[n]].mean(axis=0)).ravel()) for n in names]
    )
    similarity = np.asarray(vectors @ centroids.T)
    own = similarity[np.arange(len(labels)), [names.index(label) for label in labels]]
    distance = 1.0 - own
    out = {}
    for col, name in enumerate(names):
        mask = label_array == name
        others = np.delete(similarity[mask], col, axis=1)
        closer = float((others.max(axis=1) > own[mask]).mean()) if others.shape[1] else 0.0
        out[name] = {
            "mean_distance": float(distance[mask].mean()),
            "p90_distance": float(np.percentile(distance[mask], 90)),
            "closer_to_other": closer,
            "distances": distance[mask].tolist(),
        }
    return out


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _plot_counts(
    path: Path, experts: list[str], pairs: Sequence[CuratedPair], excluded: Sequence[ExcludedPair]
) -> None:
    """Stacked bars per expert: train, val, excluded."""

    splits = {s: Counter(p.pair.expert for p in pairs if p.split == s) for s in ("train", "val")}
    dropped = Counter(e.expert for e in excluded)
    x = np.arange(len(experts))
    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = np.zeros(len(experts))
    for label, counts in (
        ("train", splits["train"]),
        ("val", splits["val"]),
        ("excluded", dropped),
    ):
        values = np.array([counts[e] for e in experts], dtype=float)
        ax.bar(x, values, bottom=bottom, label=label)
        bottom += values
    ax.set_xticks(x, experts)
    ax.set_ylabel("pairs")
    ax.set_title("Pairs per expert")
    ax.legend()
    _save(fig, path)


def _plot_scores(reports: Path, experts: list[str], pairs: Sequence[CuratedPair]) -> list[str]:
    """One box plot per judge criterion, experts side by side; the PNG names written."""
    criteria = sorted({k for p in pairs for k in p.scores if not k.startswith("check.")})
    written = []
    for criterion in criteria:
        groups = {
            e: [p.scores[criterion] for p in pairs if p.pair.expert == e and criterion in p.scores]
            for e in experts
        }
        path = plots.distributions(
            groups,
            reports / f"distribution_score_{criterion}.png",
            f"judge score: {criterion}",
            "score",
        )
        if path is not None:
            written.append(path.name)
    return written


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_distribution_report(
    run: RunDir,
    experts: ExpertSet,
    pairs: Sequence[CuratedPair],
    excluded: Sequence[ExcludedPair],
    answer_vectors: dict[str, np.ndarray],
    min_pairs: int = 50,
    use_embeddings: bool = True,
) -> dict[str, Any]:
    """Write reports/distribution.html (+ PNGs); return the figures it shows."""
    reports = run.reports
    names = list(experts.names) + sorted({p.pair.expert for p in pairs} - set(experts.names))
    vectors, space = answer_space(pairs, answer_vectors, use_embeddings)
    consistency = style_consistency(vectors, [p.pair.expert for p in pairs]) if pairs else {}
    counts = Counter(p.pair.expert for p in pairs)
    warnings = [
        f"{n}: {counts[n]} curated pairs, below {min_pairs}" for n in names if counts[n] < min_pairs
    ]
    _plot_counts(reports / "distribution_counts.png", names, pairs, excluded)
    score_plots = _plot_scores(reports, names, pairs)
    if consistency:
        plots.histograms(
            {n: row["distances"] for n, row in consistency.items()},
            reports / "distribution_style.png",
            f"Style consistency ({space.split(' (')[0]})",
            "cosine distance to own expert centroid",
        )
    body = _html_body(names, pairs, excluded, consistency, space, warnings, score_plots)
    atomic_write_text(reports / "distribution.html", html_page("Expert distribution", body))
    return {
        "report": str(reports / "distribution.html"),
        "space": space,
        "warnings": warnings,
        "style": {
            n: {k: round(v, 4) for k, v in row.items() if k != "distances"}
            for n, row in consistency.items()
        },
    }


def _html_body(
    names: list[str],
    pairs: Sequence[CuratedPair],
    excluded: Sequence[ExcludedPair],
    consistency: dict[str, dict[str, Any]],
    space: str,
    warnings: list[str],
    score_plots: list[str],
) -> str:
    rows = []
    for name in names:
        mine = [p for p in pairs if p.pair.expert == name]
        reasons = Counter(e.reason for e in excluded if e.expert == name)
        style = consistency.get(name, {})
        rows.append(
            [
                esc(name),
                esc(sum(p.split == "train" for p in mine)),
                esc(sum(p.split == "val" for p in mine)),
                esc(", ".join(f"{r}: {c}" for r, c in reasons.most_common()) or "none"),
                esc(f"{style['mean_distance']:.3f}" if style else "n/a"),
                esc(f"{style['closer_to_other']:.1%}" if style else "n/a"),
            ]
        )
    table = html_table(
        [
            "expert",
            "train",
            "val",
            "excluded (reason: count)",
            "mean distance to centroid",
            "closer to another expert",
        ],
        rows,
    )
    warn = "".join(f"<li>{esc(w)}</li>" for w in warnings) or "<li>none</li>"
    images = '<img src="distribution_counts.png" alt="pairs per expert">'
    if score_plots:
        images += "<h2>Judge scores</h2>" + "".join(
            f'<img src="{esc(n)}" alt="{esc(n)}">' for n in score_plots
        )
    if consistency:
        images += (
            f"<h2>Style consistency</h2><p>Space: {esc(space)}. Distance = 1 - cosine to the "
            'mean of the expert\'s answers; "closer to another expert" counts answers nearer to '
            "another expert's centroid.</p>"
            '<img src="distribution_style.png" alt="distance to expert centroid">'
        )
    return f"<h2>Per expert</h2>{table}<h2>Warnings</h2><ul>{warn}</ul><h2>Counts</h2>{images}"
