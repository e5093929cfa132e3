"""Question<->answer alignment, scored against the pool of the run (no labels needed).

Plain embedding cosine rewards a question for being about the same topic as the answer, not
for being *its* question: a question about the same worry as a neighbouring segment scores
nearly as high. The alignment score is the margin criterion used for mining parallel
sentences (Artetxe & Schwenk, 2019): the pair's cosine minus the mean of

  - the question's k best cosines with every answer in the pool, and
  - the answer's k best cosines with every question in the pool,

so a question scores well only if this answer is among the best for it, and the answer
scores it well only if it is among the best questions for it. The plain cosine stays in the
result as a feature. With fewer than `min_pool` distinct questions or answers there is no
pool to compare against: the margin is then not computed and the cosine decides.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.config import ChecksConfig
from synth.judge.vectors import matrix
from synth.records import CheckResult
from synth.text import embeddings

CHUNK = 2048  # questions per block of the similarity matrix (bounded memory)


@dataclass(frozen=True)
class Alignment:
    cosine: np.ndarray  # per pair
    margin: np.ndarray | None  # per pair; None when the pool is too small


def top_k_means(questions: np.ndarray, answers: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each question's k best answer cosines, and of each answer's k best question
    cosines, computed block by block (never the whole matrix at once)."""
    kq = min(k, len(answers))
    ka = min(k, len(questions))
    q_mean = np.empty(len(questions), dtype=np.float32)
    a_best = np.full((ka, len(answers)), -np.inf, dtype=np.float32)
    for start in range(0, len(questions), CHUNK):
        block = questions[start:start + CHUNK] @ answers.T
        q_mean[start:start + len(block)] = np.partition(block, -kq, axis=1)[:, -kq:].mean(axis=1)
        merged = np.concatenate([a_best, block], axis=0)
        a_best = np.partition(merged, -ka, axis=0)[-ka:]
    return q_mean, a_best.mean(axis=0)


def align(questions: np.ndarray, answers: np.ndarray, q_index: np.ndarray, a_index: np.ndarray,
          k: int = 4, min_pool: int = 20) -> Alignment:
    """Scores of pairs (q_index[i], a_index[i]) over distinct, L2-normalised vectors."""
    cosine = np.einsum("ij,ij->i", questions[q_index], answers[a_index])
    if len(questions) < min_pool or len(answers) < min_pool:
        return Alignment(cosine, None)
    q_mean, a_mean = top_k_means(questions, answers, k)
    margin = cosine - (q_mean[q_index] + a_mean[a_index]) / 2
    return Alignment(cosine, margin)


def alignment_results(items: list[tuple[str, str]], pool: list[tuple[str, str]],
                      vectors: dict[str, np.ndarray], config: ChecksConfig) -> list[CheckResult]:
    """The `alignment` check of each item, scored against the pool (items included)."""
    questions = sorted({q for q, _ in pool} | {q for q, _ in items})
    answers = sorted({a for _, a in pool} | {a for _, a in items})
    q_pos = {q: i for i, q in enumerate(questions)}
    a_pos = {a: i for i, a in enumerate(answers)}
    scores = align(matrix(questions, vectors), matrix(answers, vectors),
                   np.array([q_pos[q] for q, _ in items], dtype=np.int64),
                   np.array([a_pos[a] for _, a in items], dtype=np.int64),
                   k=config.alignment_k, min_pool=config.alignment_min_pool)
    return [_result(float(scores.cosine[i]), None if scores.margin is None else float(scores.margin[i]),
                    config, len(answers), len(questions)) for i in range(len(items))]


def small_pool(questions: int, answers: int, min_pool: int) -> str:
    """Why there is no margin: which side of the pool has fewer distinct texts than min_pool."""
    short = [f"{n} distinct {side}" for side, n in (("questions", questions), ("answers", answers))
             if n < min_pool]
    return f"the pool has only {' and '.join(short)}, under alignment_min_pool {min_pool}: no margin"


def _result(cosine: float, margin: float | None, config: ChecksConfig, pool: int,
            questions: int) -> CheckResult:
    cos_ok = cosine >= config.min_similarity
    details = {"cosine": round(cosine, 4)}
    if margin is None:
        return CheckResult(
            name="alignment", score=round(cosine, 4), passed=cos_ok, details=details,
            reason=f"{embeddings.MODEL_NAME} cosine {cosine:.3f} "
                   f"{'at least' if cos_ok else 'below'} min_similarity {config.min_similarity} "
                   f"({small_pool(questions, pool, config.alignment_min_pool)})")
    details["margin"] = round(margin, 4)
    margin_ok = margin >= config.min_alignment_margin
    verdict = "at least" if margin_ok else "below"
    return CheckResult(
        name="alignment", score=round(margin, 4), passed=margin_ok and cos_ok, details=details,
        reason=f"margin {margin:+.3f} {verdict} min_alignment_margin {config.min_alignment_margin} "
               f"(cosine {cosine:.3f} against the k={config.alignment_k} best of {pool} answers and "
               f"of the pool's questions){'' if cos_ok else f'; cosine below min_similarity {config.min_similarity}'}")


def skipped_results(items: list[tuple[str, str]]) -> list[CheckResult]:
    reason = f"skipped: sentence embeddings not installed ({embeddings.INSTALL_HINT})"
    return [CheckResult(name="alignment", score=None, passed=True, reason=reason, skipped=True)
            for _ in items]
