"""Exact and near-duplicate detection for lists of texts, never O(n^2).

Exact duplicates: equal after normalisation (case, punctuation, whitespace), by hash.
Near duplicates: word shingles -> MinHash signatures (vectorised numpy) -> datasketch
MinHashLSH for candidates -> exact verification of each candidate on the shingle sets.

Both return one cluster id per text: the index of the first text of its cluster, so
text i is a duplicate of an earlier text exactly when `clusters[i] != i`.
"""
from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

Measure = Literal["jaccard", "overlap"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_PRIME = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B1)


def normalise_for_hash(text: str) -> str:
    """Casefolded words joined by single spaces (punctuation and spacing ignored)."""
    return " ".join(_WORD.findall(text.casefold()))


def exact_key(text: str) -> str:
    return hashlib.blake2b(normalise_for_hash(text).encode("utf-8"), digest_size=16).hexdigest()


def exact_duplicate_clusters(texts: Sequence[str]) -> list[int]:
    """Cluster id per text: index of the first text with the same normalised content."""
    first: dict[str, int] = {}
    return [first.setdefault(exact_key(text), index) for index, text in enumerate(texts)]


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller index stays the root, so roots are first members
            self.parent[max(ra, rb)] = min(ra, rb)


def shingle_sets(texts: Sequence[str], size: int = 5) -> list[np.ndarray]:
    """Sorted unique 64-bit hashes of the word `size`-grams of each text."""
    word_hash: dict[str, int] = {}
    sets = []
    for text in texts:
        words = _WORD.findall(text.casefold())
        ids = np.fromiter((word_hash.get(w) or word_hash.setdefault(w, zlib.crc32(w.encode()) + 1)
                           for w in words), dtype=np.uint64, count=len(words))
        sets.append(_ngram_hashes(ids, size))
    return sets


def _ngram_hashes(ids: np.ndarray, size: int) -> np.ndarray:
    if ids.size == 0:
        return ids
    size = min(size, ids.size)
    count = ids.size - size + 1
    acc = np.zeros(count, dtype=np.uint64)
    for offset in range(size):  # polynomial rolling combination, wraps mod 2^64
        acc = acc * _MIX + ids[offset:offset + count]
    return np.unique(acc)


def minhash_signatures(sets: Sequence[np.ndarray], num_perm: int = 64, seed: int = 1) -> np.ndarray:
    """(len(sets), num_perm) uint64 MinHash signatures; empty sets get all-max rows."""
    rng = np.random.RandomState(seed)
    a = rng.randint(1, 1 << 31, size=num_perm, dtype=np.int64).astype(np.uint64)
    b = rng.randint(0, 1 << 31, size=num_perm, dtype=np.int64).astype(np.uint64)
    out = np.full((len(sets), num_perm), _MASK32, dtype=np.uint64)
    chunk = 2048
    for start in range(0, len(sets), chunk):
        part = sets[start:start + chunk]
        sizes = np.fromiter((s.size for s in part), dtype=np.int64, count=len(part))
        if not sizes.any():
            continue
        values = np.concatenate([s for s in part if s.size]) & _MASK32
        permuted = ((values[:, None] * a + b) % _PRIME) & _MASK32
        offsets = np.concatenate(([0], np.cumsum(sizes[sizes > 0])[:-1]))
        rows = np.flatnonzero(sizes) + start
        out[rows] = np.minimum.reduceat(permuted, offsets, axis=0)
    return out


def similarity(a: np.ndarray, b: np.ndarray, measure: Measure = "jaccard") -> float:
    """Exact similarity of two shingle sets (sorted unique arrays)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    if measure == "overlap":
        return common / min(a.size, b.size)
    return common / (a.size + b.size - common)


def _lsh_threshold(threshold: float, measure: Measure) -> float:
    """A lower LSH threshold so candidates above `threshold` are rarely missed."""
    if measure == "overlap":  # equal-size sets with overlap t have Jaccard t/(2-t)
        return max(0.2, 0.75 * threshold / (2 - threshold))
    return max(0.2, 0.85 * threshold)


def near_duplicate_clusters(texts: Sequence[str], threshold: float, num_perm: int = 64, *,
                            groups: Sequence[str] | None = None, measure: Measure = "jaccard",
                            shingle_size: int = 5, seed: int = 1) -> list[int]:
    """Cluster id per text (index of the cluster's first text) for near-duplicate texts.

    measure "jaccard" compares whole texts; "overlap" (|A & B| / min(|A|, |B|)) also catches a
    window that lies mostly inside another (overlapping transcript windows). With `groups`,
    only texts of the same group (e.g. one video) can be near-duplicates.
    """
    sets = shingle_sets(texts, shingle_size)
    signatures = minhash_signatures(sets, num_perm, seed)
    lsh = MinHashLSH(threshold=_lsh_threshold(threshold, measure), num_perm=num_perm)
    clusters = _UnionFind(len(texts))
    for index, signature in enumerate(signatures):
        if sets[index].size == 0:
            continue
        sketch = LeanMinHash(seed=seed, hashvalues=signature, scheme="legacy")  # same affine family
        for other in lsh.query(sketch):
            if groups is not None and groups[other] != groups[index]:
                continue
            if similarity(sets[index], sets[other], measure) >= threshold:
                clusters.union(index, other)
        lsh.insert(index, sketch, check_duplication=False)
    return [clusters.find(index) for index in range(len(texts))]


def duplicates_of_earlier(clusters: Sequence[int]) -> list[bool]:
    """True for every text whose cluster started at an earlier text."""
    return [cluster != index for index, cluster in enumerate(clusters)]
