"""Exact and near-duplicate detection for lists of texts, never O(n^2).

Exact duplicates: equal after normalisation (case, surrounding punctuation, spacing), by hash.
Near duplicates: word shingles -> MinHash signatures -> LSH banding (bands and rows chosen by
datasketch's false-positive/false-negative optimiser) -> exact verification of each
candidate on the shingle sets. Shingling, MinHash and banding are vectorised with numpy in
blocks, so 100,000 texts take seconds and bounded memory.

Both return one cluster id per text: the index of the first text of its cluster, so
text i is a duplicate of an earlier text exactly when `clusters[i] != i`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import chain
from typing import Literal

import numpy as np

from synth.text.stats import normalised, word_hashes
from synth.text.unionfind import UnionFind

Measure = Literal["jaccard", "overlap"]

_MIX = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_BLOCK = 512  # texts per vectorised block
_MAX_REPS = 64  # representatives compared per LSH bucket


def normalise_for_hash(text: str) -> str:
    """Casefolded words joined by single spaces (punctuation around words and spacing ignored)."""
    return normalised(text)


def exact_key(text: str) -> str:
    return hashlib.blake2b(normalise_for_hash(text).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def exact_duplicate_clusters(texts: Sequence[str]) -> list[int]:
    """Cluster id per text: index of the first text with the same normalised content."""
    first: dict[str, int] = {}
    return [first.setdefault(exact_key(text), index) for index, text in enumerate(texts)]


def duplicates_of_earlier(clusters: Sequence[int]) -> list[bool]:
    """True for every text whose cluster started at an earlier text."""
    return [cluster != index for index, cluster in enumerate(clusters)]


def _ranges(begins: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges [begins[i], begins[i] + counts[i])."""
    ends = np.cumsum(counts)
    return np.repeat(begins - (ends - counts), counts) + np.arange(ends[-1] if ends.size else 0)


def _fold(ids: np.ndarray) -> np.ndarray:
    acc = np.zeros(1, dtype=np.uint64)
    for value in ids:
        acc = acc * _MIX + value
    return acc


def shingle_block(texts: Sequence[str], size: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(values, counts): word `size`-gram hashes of each text, concatenated (not deduplicated).

    A text shorter than `size` words is one shingle; an empty text has none.
    """
    lists = [word_hashes(t) for t in texts]
    lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    ids = np.fromiter(chain.from_iterable(lists), dtype=np.uint64, count=int(lens.sum()))
    starts = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    long = lens >= size
    counts = np.where(long, lens - size + 1, (lens > 0).astype(np.int64))
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    values = np.empty(int(counts.sum()), dtype=np.uint64)
    if long.any():
        acc = np.zeros(ids.size - size + 1, dtype=np.uint64)
        for offset in range(size):  # polynomial rolling combination, wraps mod 2^64
            acc *= _MIX
            acc += ids[offset:offset + acc.size]
        values[_ranges(offsets[long], counts[long])] = acc[_ranges(starts[long], counts[long])]
    for index in np.flatnonzero(~long & (lens > 0)):
        values[offsets[index]] = _fold(ids[starts[index]:starts[index] + lens[index]])[0]
    return values, counts


def shingle_set(text: str, size: int = 5) -> np.ndarray:
    """Sorted unique shingle hashes of one text."""
    return np.unique(shingle_block([text], size)[0])


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return a, rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)


def minhash_block(values: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(counts), num_perm) uint32 MinHash rows (multiply-add-shift hashing); empty rows max."""
    out = np.full((counts.size, a.size), 0xFFFFFFFF, dtype=np.uint32)
    if values.size == 0:
        return out
    folded = (values ^ (values >> _SHIFT)) & _MASK32
    permuted = np.multiply.outer(a, folded)  # (num_perm, shingles): reduceat runs along rows
    permuted += b[:, None]
    permuted >>= _SHIFT
    nonempty = counts > 0
    offsets = np.concatenate(([0], np.cumsum(counts[nonempty])[:-1]))
    out[nonempty] = np.minimum.reduceat(permuted, offsets, axis=1).T
    return out


def minhash_signatures(texts: Sequence[str], num_perm: int = 64, seed: int = 1,
                       shingle_size: int = 5) -> np.ndarray:
    """(len(texts), num_perm) uint32 MinHash signatures, computed in blocks."""
    a, b = _permutations(num_perm, seed)
    blocks = [minhash_block(*shingle_block(texts[i:i + _BLOCK], shingle_size), a, b)
              for i in range(0, len(texts), _BLOCK)]
    return np.concatenate(blocks) if blocks else np.zeros((0, num_perm), dtype=np.uint32)


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
    if measure == "overlap":  # equal-size sets with overlap t have Jaccard t/(2-t); windows of
        return max(0.2, 0.5 * threshold / (2 - threshold))  # unequal size have less: go lower
    return max(0.2, 0.85 * threshold)


# datasketch's optimiser's (bands, rows) for the LSH thresholds of the default configs (ingest 0.5
# overlap; curate 0.8 Jaccard and overlap), equal false-positive and false-negative weights:
# importing the optimiser imports scipy.integrate, ~0.9 CPU-s a run. tests/text/test_minhash.py
# checks each against datasketch.
_KNOWN_PARAMS = {(0.2, 64): (28, 2), (0.2, 128): (28, 2), (0.68, 64): (9, 7), (0.68, 128): (16, 8),
                 (0.33333333333333337, 64): (21, 3), (0.33333333333333337, 128): (26, 3)}


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) datasketch's optimiser picks for an LSH threshold and num_perm."""
    known = _KNOWN_PARAMS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def _buckets(signatures: np.ndarray, group_keys: np.ndarray, bands: int, rows: int, seed: int):
    """Yield sorted arrays of row indices that share one LSH band (and group key)."""
    multipliers = _permutations(rows, seed + 7)[0]
    for band in range(bands):
        keys = signatures[:, band * rows:(band + 1) * rows].astype(np.uint64) @ multipliers
        keys = keys * _MIX + group_keys
        order = np.argsort(keys, kind="stable")
        starts = np.flatnonzero(np.concatenate(([True], np.diff(keys[order]) != 0)))
        sizes = np.diff(np.append(starts, order.size))
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            yield np.sort(order[start:start + size])


def _group_keys(groups: Sequence[str] | None, size: int) -> np.ndarray:
    if groups is None:
        return np.zeros(size, dtype=np.uint64)
    codes = {g: int(hashlib.blake2b(g.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest(), 16)
             for g in set(groups)}
    return np.fromiter((codes[g] for g in groups), dtype=np.uint64, count=size)


def near_duplicate_clusters(texts: Sequence[str], threshold: float, num_perm: int = 64, *,
                            groups: Sequence[str] | None = None, measure: Measure = "jaccard",
                            shingle_size: int = 5, seed: int = 1) -> list[int]:
    """Cluster id per text (index of the cluster's first text) for near-duplicate texts.

    measure "jaccard" compares whole texts; "overlap" (|A & B| / min(|A|, |B|)) also catches a
    window that lies mostly inside another (overlapping transcript windows). With `groups`,
    only texts of the same group (e.g. one video) can be near-duplicates.
    """
    clusters: UnionFind[int] = UnionFind()
    if len(texts) < 2:
        return list(range(len(texts)))
    signatures = minhash_signatures(texts, num_perm, seed, shingle_size)
    nonempty = np.flatnonzero(signatures[:, 0] != 0xFFFFFFFF)
    group_keys = _group_keys(groups, len(texts))[nonempty]
    bands, rows = lsh_params(_lsh_threshold(threshold, measure), num_perm)
    sets: dict[int, np.ndarray] = {}

    def shingles(index: int) -> np.ndarray:
        if index not in sets:
            sets[index] = shingle_set(texts[index], shingle_size)
        return sets[index]

    for bucket in _buckets(signatures[nonempty], group_keys, bands, rows, seed):
        representatives: list[int] = []
        for member in (int(nonempty[i]) for i in bucket):
            for rep in representatives:
                if clusters.find(rep) == clusters.find(member):
                    break
                same_group = groups is None or groups[rep] == groups[member]
                if same_group and similarity(shingles(rep), shingles(member), measure) >= threshold:
                    clusters.union(rep, member)
                    break
            else:
                if len(representatives) < _MAX_REPS:
                    representatives.append(member)
    return [clusters.find(index) for index in range(len(texts))]
