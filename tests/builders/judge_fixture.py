"""Test pairs and a scriptable fake judge for the judge tests (our own text, one marker per pair).

The fake server's answer function (`ScriptedJudge`) answers judge requests (JudgeVerdict) with
the scores scripted for the pair's marker, and revise requests (RevisedQuestion) with a new
question that keeps the marker, so a test can follow a pair through every round.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from generate_fixture import write_config

from synth.config import RunConfig, load_config
from synth.files import write_jsonl
from synth.records import Pair, stable_id
from synth.rundir import RunDir, open_run

REPO = Path(__file__).resolve().parents[2]
CRITERIA = ("alignment", "authenticity", "style_fit", "safety", "voice")
ANSWERS = {
    "therapeutic": "When you grew up in a home where anger was dangerous, your nervous system learned to "
                   "scan every room for threat. That was a smart adaptation back then. Today it can show "
                   "up as people pleasing. Healing starts when you notice the pattern without shame.",
    "educational": "Let me explain the difference between guilt and shame. Guilt says I did something bad. "
                   "Shame says I am bad. Guilt moves you toward repair, shame moves you toward hiding, and "
                   "once you can tell them apart you can respond to each one differently.",
    "empathetic": "If you feel tonight like nobody sees how hard you are trying, I want you to hear this. "
                  "Your exhaustion makes sense. Loneliness after a loss is not a sign that you are failing "
                  "at grief. You are not alone in this, and it will not always hurt this much.",
    "practical": "Here is a simple boundary script you can try this week. Say: I care about you, and I am "
                 "not able to talk about this tonight. Then stop. If they push, repeat the sentence once, "
                 "calmly, and leave the room if you need to. Practise it out loud twice beforehand.",
}
QUESTIONS = {
    "therapeutic": "Why do I freeze and start people pleasing whenever someone gets angry near me?",
    "educational": "What is the actual difference between guilt and shame?",
    "empathetic": "Is it normal to feel this lonely months after losing my mum?",
    "practical": "What can I say to my sister when she keeps bringing up the same fight?",
}
EXPERTS = list(ANSWERS)
_MARKER = re.compile(r"zq(\d{4})x")


def marker(i: int) -> str:
    return f"zq{i:04d}x"


def make_pair(i: int, expert: str | None = None, question: str | None = None,
              answer: str | None = None) -> Pair:
    expert = expert or EXPERTS[i % len(EXPERTS)]
    question = f"{question or QUESTIONS[expert]} ({marker(i)})"
    answer = answer or ANSWERS[expert]
    return Pair(pair_id=stable_id("pair", str(i)), segment_id=f"seg-{i:04d}", source_id=f"v{i // 4}",
                expert=expert, question=question, answer=answer, question_type="test",
                persona="someone", concepts=["pattern"], generator="openai",
                generator_model="fake-model", prompt_hash="p0", seed=i)


def make_pairs(n: int) -> list[Pair]:
    return [make_pair(i) for i in range(n)]


def marker_of(text: str) -> int | None:
    found = _MARKER.search(text)
    return int(found.group(1)) if found else None


class ScriptedJudge:
    """Fake server answers: scores per pair marker (default 4 each), flags, revise questions."""

    def __init__(self) -> None:
        self.scores: dict[int, dict[str, int]] = {}
        self.flags: dict[int, list[dict[str, str]]] = {}
        self.strict_word: str | None = None  # a word in the system prompt that lowers alignment to 2
        self.fixed_by_revision: set[int] = set()  # markers whose scripted scores stop once revised
        self.judge_requests = 0
        self.revise_requests: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        name = body["response_format"]["json_schema"]["name"]
        user = body["messages"][1]["content"]  # [-1] may be a re-ask
        i = marker_of(user)
        if name == "RevisedQuestion":
            self.revise_requests.append(body)
            rounds = len([b for b in self.revise_requests if marker_of(b["messages"][1]["content"]) == i])
            kind = body["response_format"]["json_schema"]["schema"]["properties"]["question_type"]
            return {"question_type": (kind.get("enum") or [kind.get("const")])[0],
                    "question": f"How do I stop repeating this old pattern, version {rounds}? ({marker(i or 0)})"}
        self.judge_requests += 1
        key = -1 if i is None else i
        revised = "version" in user and key in self.fixed_by_revision
        scores = {c: 4 for c in CRITERIA} | ({} if revised else self.scores.get(key, {}))
        if self.strict_word and self.strict_word in body["messages"][0]["content"]:
            scores["alignment"] = min(scores["alignment"], 2)
        verdict: dict[str, Any] = {c: {"score": s, "rationale": f"scripted {c} {s}"} for c, s in scores.items()
                                   if c in body["messages"][0]["content"]}
        verdict["safety_flags"] = self.flags.get(key, [])
        return verdict


def judge_config(run_dir: Path, url: str | None, rubric: Path | None = None, **sets: Any) -> RunConfig:
    data: dict[str, Any] = {
        "run_dir": str(run_dir), "experts": str(REPO / "configs/experts.yaml"),
        "generator": {"prompts_dir": str(REPO / "prompts")},
        "judge": {"rubric": str(rubric or REPO / "judges/default.yaml")},
        "budget": {"max_usd": 10},
    }
    if url:
        endpoint = {"provider": "openai", "model": "fake-model", "base_url": url,
                    "api_key_env": "SYNTH_TEST_KEY", "backoff_base_s": 0.01, "backoff_max_s": 0.05,
                    "concurrency": 4, "max_retries": 1, "timeout_s": 5,
                    "price_in_per_mtok": 0.0, "price_out_per_mtok": 0.0}  # a free fake endpoint
        data["generator"].update(endpoint)
        data["judge"].update({**endpoint, "model": "judge-model"})
    return load_config(write_config(run_dir, data, sets))


def setup_run(config: RunConfig, pairs: list[Pair]) -> RunDir:
    run = open_run(config)
    write_jsonl(run.pairs, pairs)
    return run


def rubric_copy(tmp_path: Path, name: str, edit: Any = None) -> Path:
    """A copy of the default rubric (and its templates) in tmp_path, edited by `edit(data)`."""
    for template in ("judge_system.j2", "judge_user.j2"):
        if not (tmp_path / template).exists():
            shutil.copy(REPO / "judges" / template, tmp_path / template)
    data = yaml.safe_load((REPO / "judges/default.yaml").read_text())
    if edit:
        edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
