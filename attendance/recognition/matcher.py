"""1:N matching of face vectors against every enrolled template at once.

All templates of one face model sit in one float32 matrix (rows L2-normalised), so the
cosine similarity of a batch of faces to the whole roster is one matrix product, written
into a buffer kept between calls (no 400 kB allocation per face at 100k templates), and the
best row is one argmax (no sort). The matrix is rebuilt only when the roster changes:
RosterMatcher asks the database for a cheap signature of the templates every few seconds
and reloads when it differs.

One face against 100k templates reads the whole 51 MB matrix: it is bound by memory, not
arithmetic, and a second BLAS thread buys little when idle but costs a lot when the CPU is
busy (threads wait on each other). The worker process therefore runs BLAS on one thread
(`use_one_blas_thread`); bench/faces measures both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Match:
    employee_id: int | None  # None: unknown (best similarity below the threshold, or no templates)
    similarity: float


class TemplateMatrix:
    """Templates as one matrix; `employee_ids[i]` owns row i."""

    def __init__(self, vectors: np.ndarray, employee_ids: np.ndarray, *, threshold: float):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array (templates x dimension)")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # Stored transposed (dimension x templates, C order): a query row times this matrix
        # streams memory linearly, which measured fastest for one face against 100k rows.
        self.columns = np.ascontiguousarray((vectors / np.where(norms > 0, norms, 1.0)).T)
        self.employee_ids = np.asarray(employee_ids, dtype=np.int64)
        self.threshold = float(threshold)
        # Similarities of the last batch, reused by the next (grown when a batch is larger).
        # Not thread-safe: one worker thread owns a matrix.
        self._scores = np.empty((1, len(self.employee_ids)), np.float32)

    @classmethod
    def empty(cls, dimension: int, *, threshold: float) -> TemplateMatrix:
        return cls(np.zeros((0, dimension), np.float32), np.zeros(0, np.int64), threshold=threshold)

    def __len__(self) -> int:
        return len(self.employee_ids)

    @property
    def vectors(self) -> np.ndarray:
        """The normalised templates, one per row (a view)."""
        return self.columns.T

    def match(self, queries: np.ndarray) -> list[Match]:
        """The best employee for each query vector (rows of `queries`, normalised)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        count = len(queries)
        if count == 0:
            return []
        if len(self) == 0:
            return [Match(None, 0.0) for _ in range(count)]
        if len(self._scores) < count:
            self._scores = np.empty((count, len(self)), np.float32)
        similarities = np.matmul(queries, self.columns, out=self._scores[:count])  # (queries, templates)
        best = similarities.argmax(axis=1)
        scores = similarities[np.arange(count), best]
        return [
            Match(int(self.employee_ids[row]) if score >= self.threshold else None, float(score))
            for row, score in zip(best, scores, strict=True)
        ]


def use_one_blas_thread() -> Any:  # a threadpoolctl limiter (the library is untyped)
    """Run numpy's BLAS on one thread in this process (the attendance worker): see the
    module docstring. threadpoolctl sets it in the loaded library, which the forkserver
    imported before this process existed (so OPENBLAS_NUM_THREADS would come too late).
    Returns the limiter (its restore_original_limits() undoes it)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class RosterMatcher:
    """A TemplateMatrix kept in step with the database.

    `load` returns (vectors, employee ids) and `signature` something that changes whenever
    the templates do (see attendance.selectors); both are injected so tests and the bench
    can feed them directly."""

    def __init__(
        self,
        *,
        load: Callable[[], tuple[np.ndarray, np.ndarray]],
        signature: Callable[[], object],
        dimension: int,
        threshold: float,
        recheck_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._load = load
        self._signature = signature
        self.dimension = dimension
        self.threshold = threshold
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._matrix: TemplateMatrix | None = None
        self._seen_signature: object = None
        self._checked_at: float | None = None
        self.reloads = 0

    def matrix(self) -> TemplateMatrix:
        now = self._monotonic()
        if self._matrix is None or self._checked_at is None or now - self._checked_at >= self.recheck_seconds:
            self._checked_at = now
            signature = self._signature()
            if self._matrix is None or signature != self._seen_signature:
                vectors, employee_ids = self._load()
                if len(employee_ids) == 0:
                    self._matrix = TemplateMatrix.empty(self.dimension, threshold=self.threshold)
                else:
                    self._matrix = TemplateMatrix(vectors, employee_ids, threshold=self.threshold)
                self._seen_signature = signature
                self.reloads += 1
        return self._matrix

    def invalidate(self) -> None:
        self._checked_at = None
        self._seen_signature = object()

    def match(self, queries: np.ndarray) -> list[Match]:
        return self.matrix().match(queries)
