"""Disjoint sets (union-find with path compression), shared by dedup clustering and the split."""
from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K", int, str)


class UnionFind(Generic[K]):
    """Disjoint sets over ints or strings. The smaller item of two joined sets stays the root,
    so with index items every root is its set's first member."""

    def __init__(self) -> None:
        self.parent: dict[K, K] = {}

    def find(self, item: K) -> K:
        parent = self.parent
        root = parent.setdefault(item, item)
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: K, b: K) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
