"""Every planted quirk of the shared sample corpus is still caught by ingest and the checks
(the corpus is read at test time from ../shared; no text of it is copied here)."""
from __future__ import annotations

from pathlib import Path

import pytest

from synth.config import ChecksConfig, IngestConfig, SafetyConfig
from synth.experts import load_experts
from synth.ingest.stage import ingest_paths
from synth.judge.checks import run_checks
from synth.judge.safety import SafetyPolicy

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "segments"
QUESTION = "What would you tell someone who is struggling with this?"
PLANTED = {  # (file, record index) -> what must happen to it
    ("empathetic_batch1.json", 15): "crisis_with_help",
    ("practical_batch2.json", 18): "medical_advice_beyond_scope",
    ("therapeutic_batch2.json", 11): "harmful_advice",
    ("therapeutic_batch1.json", 0): "pii",
}

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="the shared sample exports are not on this machine")


@pytest.fixture(scope="module")
def ingested():
    return ingest_paths([str(SHARED)], load_experts(ROOT / "configs" / "experts.yaml"),
                        ingest_cfg=IngestConfig())


def _key(item) -> tuple[str, int]:
    return Path(item.source_file).name, item.record_index


def test_planted_cases_are_caught_and_few_others_are_flagged(ingested) -> None:
    policy = SafetyPolicy.from_config(SafetyConfig())
    segments = {_key(s): s for s in ingested.segments}
    assert set(PLANTED) <= set(segments)
    keys = sorted(segments)
    checks = dict(zip(keys, run_checks([(QUESTION, segments[k].text) for k in keys], ChecksConfig(), policy)))
    reasons = {k: policy.screen_reasons(c.screen) for k, c in checks.items()}
    crisis = checks[("empathetic_batch1.json", 15)].screen
    assert crisis.crisis_topic and crisis.crisis_resources and reasons[("empathetic_batch1.json", 15)] == []
    assert "medical_advice_beyond_scope" in reasons[("practical_batch2.json", 18)]
    assert any(r.startswith("harmful_advice:") for r in reasons[("therapeutic_batch2.json", 11)])
    pii = segments[("therapeutic_batch1.json", 0)]
    assert {"EMAIL", "PHONE", "NAME"} <= set(pii.redactions) and "@" not in pii.text
    others = [k for k in keys if k not in PLANTED and reasons[k]]
    assert len(others) <= 0.05 * len(keys), {k: reasons[k] for k in others}


def test_the_non_english_record_is_quarantined(ingested) -> None:
    assert any(q.reason == "non_english" for q in ingested.quarantined)
