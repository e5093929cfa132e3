"""The alignment margin: a question is judged against the whole pool, not only its answer."""
from __future__ import annotations

import numpy as np

from synth.config import ChecksConfig
from synth.judge.alignment import align, alignment_results, top_k_means


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def pool(n: int = 30, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    answers = unit(rng.normal(size=(n, dim)))
    questions = unit(answers + 0.6 * rng.normal(size=(n, dim)))  # question i belongs to answer i
    return questions, answers


def test_a_question_that_fits_another_answer_better_gets_a_lower_margin_than_cosine_says() -> None:
    questions, answers = pool()
    # answer 0 paired with its own question, and with question 1 (which belongs to answer 1)
    scores = align(questions, answers, np.array([0, 1]), np.array([0, 0]), k=4, min_pool=20)
    assert scores.margin is not None
    assert scores.margin[0] > scores.margin[1]
    true_margins = align(questions, answers, np.arange(30), np.arange(30), k=4, min_pool=20).margin
    assert np.median(true_margins) > 0


def test_top_k_means_block_by_block_equal_the_whole_matrix(monkeypatch) -> None:
    from synth.judge import alignment

    questions, answers = pool(n=50)
    whole = questions @ answers.T
    monkeypatch.setattr(alignment, "CHUNK", 7)
    q_mean, a_mean = top_k_means(questions, answers, 3)
    assert np.allclose(q_mean, np.sort(whole, axis=1)[:, -3:].mean(axis=1), atol=1e-6)
    assert np.allclose(a_mean, np.sort(whole, axis=0)[-3:, :].mean(axis=0), atol=1e-6)


def test_a_small_pool_falls_back_to_the_cosine() -> None:
    questions, answers = pool(n=5)
    vectors = {f"q{i}": questions[i] for i in range(5)} | {f"a{i}": answers[i] for i in range(5)}
    items = [(f"q{i}", f"a{i}") for i in range(5)]
    results = alignment_results(items, items, vectors, ChecksConfig())
    assert all("margin" not in r.details and "no margin" in r.reason for r in results)
    assert [r.score for r in results] == [r.details["cosine"] for r in results]


def test_the_no_margin_reason_names_the_side_of_the_pool_that_is_small() -> None:
    """32 pairs on 32 answers but 4 distinct questions: the questions are what is short."""
    questions, answers = pool(n=32)
    vectors = {f"q{i}": questions[i] for i in range(4)} | {f"a{i}": answers[i] for i in range(32)}
    items = [(f"q{i % 4}", f"a{i}") for i in range(32)]
    reason = alignment_results(items, items, vectors, ChecksConfig())[0].reason
    assert "only 4 distinct questions, under alignment_min_pool 20: no margin" in reason
    assert "answers" not in reason.split("(", 1)[1]  # 32 answers are not under 20
    both = alignment_results(items[:5], items[:5], vectors, ChecksConfig())[0].reason
    assert "only 4 distinct questions and 5 distinct answers, under alignment_min_pool 20" in both
