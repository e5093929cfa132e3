"""Test segments written for the generate tests (our own text, one marker word per segment)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from synth.config import RunConfig, load_config
from synth.records import Segment

REPO = Path(__file__).resolve().parents[2]

TEXTS = {
    "therapeutic": "When you grew up in a home where anger was dangerous, your nervous system learned to "
                   "scan every room for threat. That hypervigilance was a smart adaptation back then. Today "
                   "it shows up as people pleasing, and as a freeze response when your partner raises their "
                   "voice. Healing starts when you notice the pattern without shaming yourself for it.",
    "educational": "Let me explain the difference between guilt and shame. Guilt says I did something bad. "
                   "Shame says I am bad. Guilt is about a behaviour and it moves you toward repair. Shame is "
                   "about identity and it moves you toward hiding. Once you can tell them apart, you can "
                   "respond to each one differently and stop punishing yourself for ordinary mistakes.",
    "empathetic": "If you are sitting there tonight feeling like nobody sees how hard you are trying, I want "
                  "you to hear this. Your exhaustion makes sense. Loneliness after a loss is not a sign that "
                  "you are failing at grief. It is a sign of how much you loved. You are not alone in this, "
                  "even if it feels that way right now, and it will not always hurt this much.",
    "practical": "Here is a simple boundary script you can try this week. Say: I care about you, and I am "
                 "not able to talk about this tonight. Then stop. Do not explain or justify. If they push, "
                 "repeat the same sentence once, calmly, and leave the room if you need to. Practice it out "
                 "loud twice before the conversation so the words feel familiar.",
}
EXPERTS = list(TEXTS)


def marker(i: int) -> str:
    return f"zq{i:04d}x"


def make_segments(n: int) -> list[Segment]:
    """n segments cycling through the experts; segment i's text carries marker(i)."""
    segments = []
    for i in range(n):
        expert = EXPERTS[i % len(EXPERTS)]
        text = f"{TEXTS[expert]} Remember {marker(i)}."
        segments.append(Segment(segment_id=f"seg-{i:04d}", source_file="test.json", record_index=i,
                                source_id=f"video-{i // 4}", style=expert, raw_style=expert, text=text,
                                original_text=text, word_count=len(text.split()), confidence=0.9))
    return segments


def segment_of(body: dict[str, Any]) -> int | None:
    """Which test segment a request is about (by its marker), from the parsed request body."""
    import re

    text = " ".join(str(m.get("content")) for m in body.get("messages", []))
    found = re.search(r"zq(\d{4})x", text)
    return int(found.group(1)) if found else None


def gen_config_file(run_dir: Path, url: str | None = None, **sets: Any) -> Path:
    """A run config YAML next to run_dir (dotted keys in `sets` override); returns its path."""
    data: dict[str, Any] = {"run_dir": str(run_dir), "experts": str(REPO / "configs/experts.yaml"),
                            "generator": {"prompts_dir": str(REPO / "prompts"), "questions_per_segment": 3},
                            "budget": {"max_usd": 0}}
    if url:
        data["generator"].update({"provider": "openai", "model": "fake-model", "base_url": url,
                                  "api_key_env": "SYNTH_TEST_KEY", "backoff_base_s": 0.01,
                                  "backoff_max_s": 0.05, "concurrency": 8,
                                  "price_in_per_mtok": 0.0, "price_out_per_mtok": 0.0})  # free fake
        data["budget"]["max_usd"] = 10
    return write_config(run_dir, data, sets)


def write_config(run_dir: Path, data: dict[str, Any], sets: dict[str, Any]) -> Path:
    """Write `data`, with `sets` applied (dotted keys), as a run config YAML next to run_dir."""
    for key, value in sets.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    path = run_dir.parent / f"{run_dir.name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def gen_config(run_dir: Path, url: str | None = None, **sets: Any) -> RunConfig:
    return load_config(gen_config_file(run_dir, url, **sets))
