"""Small matplotlib (Agg) helpers that write PNG plots for the HTML/Markdown reports.

Each helper takes plain data, writes one PNG and returns its path (None when there is
nothing to plot, so reports can say so instead of showing an empty chart).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

_DPI = 110


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def histograms(groups: Mapping[str, Sequence[float]], path: Path, title: str, xlabel: str,
               bins: int = 30) -> Path | None:
    """One small histogram per group (e.g. per style), on a shared x range."""
    groups = {name: np.asarray(values, dtype=float) for name, values in groups.items() if len(values)}
    if not groups:
        return None
    lo = min(float(v.min()) for v in groups.values())
    hi = max(float(v.max()) for v in groups.values())
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 1.9 * len(groups) + 0.6), sharex=True, squeeze=False)
    for ax, (name, values) in zip(axes[:, 0], groups.items()):
        ax.hist(values, bins=edges, color="#4a7ab0")
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.text(0.99, 0.85, f"n={values.size}  median={np.median(values):.0f}", transform=ax.transAxes,
                ha="right", fontsize=8)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title)
    return _save(fig, path)


def distributions(groups: Mapping[str, Sequence[float]], path: Path, title: str, ylabel: str) -> Path | None:
    """Box plots side by side (e.g. confidence per style or per file)."""
    groups = {name: list(values) for name, values in groups.items() if len(values)}
    if not groups:
        return None
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(groups) + 2), 3.6))
    ax.boxplot(list(groups.values()), showfliers=True)
    ax.set_xticks(range(1, len(groups) + 1), [_short(n) for n in groups], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def bars(counts: Mapping[str, int], path: Path, title: str, xlabel: str = "records") -> Path | None:
    """Horizontal bar chart of named counts (zeros are shown, so absent flags are visible)."""
    if not counts:
        return None
    names = list(counts)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    ax.barh(range(len(names)), [counts[n] for n in names], color="#b0674a")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    for y, name in enumerate(names):
        ax.text(counts[name], y, f" {counts[name]}", va="center", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _save(fig, path)



def curves(series: Mapping[str, Sequence[tuple[float, float]]], path: Path, title: str,
           xlabel: str, ylabel: str) -> Path | None:
    """Line plot of (x, y) series (e.g. train and val loss per step), markers on each point."""
    series = {name: points for name, points in series.items() if len(points)}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, points in series.items():
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o", markersize=3, label=f"{name} ({ys[0]:.6g} -> {ys[-1]:.6g})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)

def _short(name: str, limit: int = 28) -> str:
    name = Path(name).name if "/" in name else name
    return name if len(name) <= limit else name[: limit - 1] + "…"


def grouped_bars(groups: Mapping[str, Mapping[str, float]], path: Path, title: str,
                 ylabel: str) -> Path | None:
    """Vertical bars per category, one bar per group side by side (e.g. a figure per expert,
    one bar per generation set); missing values are left out, not drawn as 0."""
    categories = sorted({c for values in groups.values() for c in values})
    if not groups or not categories:
        return None
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(categories) + 2), 3.6))
    for k, (name, values) in enumerate(groups.items()):
        xs = [i + k * width for i, c in enumerate(categories) if c in values]
        ax.bar(xs, [values[c] for c in categories if c in values], width, label=_short(name))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(categories))], [_short(c) for c in categories],
                  rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)
