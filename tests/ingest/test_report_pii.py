"""Personal data never reaches ingest's reports: the schema examples of audit.json/audit.md and
the quarantine excerpts are redacted, the excerpts value by value through one batch (cold and
from the machine's redaction store on a rerun, which imports no Presidio)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_fixture import ROOT, answer, experts, write_json

from synth.config import IngestConfig
from synth.ingest import pii, piibulk
from synth.ingest.audit import write_audit
from synth.ingest.extract import excerpt_strings, excerpt_text
from synth.ingest.stage import ingest_paths

# The email straddles the schema example's 60-character cut: the cut must not leave "dana.whi...".
OPENING = "Write to me any time at the address dana.whitfield@example.com."
CALL = "This is from Dana Whitfield, call 415-555-0134."
PLANTED = ("Whitfield", "dana.whi", "415-555-0134", "415 555 0199", "4155550177")


def _corpus(folder: Path) -> list[str]:
    segments = [{"segment_id": f"s{i}", "phone": 4155550177,
                 "video": {"title": "Letter from Dana Whitfield, 415 555 0199", "video_id": f"v{i}"},
                 "confidence": 0.9 if i == 0 else 0.1, "text": f"{OPENING} {answer('shame', i)} {CALL}"}
                for i in range(3)]
    write_json(folder / "talks.json", {"style": "therapeutic", "segments": segments})
    lines = [json.dumps({"text": answer("grief", 0), "style": "empathetic"}),
             '{"text": "' + CALL + '", "style": broken']
    (folder / "clips.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(folder / "talks.json"), str(folder / "clips.jsonl")]


def _ingest_and_audit(paths: list[str], out: Path) -> tuple[list[str | None], str]:
    result = ingest_paths(paths, experts(), ingest_cfg=IngestConfig(workers=1))
    summary = write_audit(result, out, experts=experts())
    assert summary["usable"] + sum(summary["quarantined"].values()) == summary["records"] == 5
    reports = "".join((out / name).read_text(encoding="utf-8") for name in ("audit.json", "audit.md", "audit.html"))
    return [q.raw for q in result.quarantined], reports


def test_planted_personal_data_reaches_no_report_cold_or_rerun(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SYNTH_REDACTION_STORE_MB", raising=False)
    paths = _corpus(tmp_path)
    for run in ("cold", "rerun"):
        raws, reports = _ingest_and_audit(paths, tmp_path / run)
        assert len(raws) == 3 and all(raws), run  # two low_confidence records and the broken line, each excerpted
        for planted in PLANTED:
            assert planted not in reports, (run, planted)
            assert not any(planted in raw for raw in raws if raw), (run, planted)
        details = json.loads((tmp_path / run / "audit.json").read_text(encoding="utf-8"))
        talks = next(f for f in details["file_reports"] if f["path"].endswith("talks.json"))
        examples = {s["field"]: s["example"] for s in talks["schema"]["fields"]}
        assert examples["text"].startswith("Write to me any time at the address [EMAIL]")
        assert "[NAME]" in examples["video.title"] and "[PHONE]" in examples["video.title"]
        low = [raw for raw in raws if raw and raw.startswith('{"segment_id"')]
        assert len(low) == 2 and all('"phone": "[PHONE]", "video": {"title": "Letter from [NAME], [PHONE]"' in raw
                                     and '"text": "Write to me any time at the address [EMAIL].' in raw for raw in low)
        broken = next(raw for raw in raws if raw and "broken" in raw)
        assert "[NAME]" in broken and "[PHONE]" in broken


@pytest.mark.skipif(not pii.available(), reason="screen extra not installed")
def test_a_rerun_redacts_from_the_store_without_presidio(tmp_path: Path) -> None:
    paths = _corpus(tmp_path)
    script = (f"import sys, json; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests' / 'builders')!r}, "
              f"{str(Path(__file__).parent)!r}]\n"
              "from test_report_pii import _ingest_and_audit, PLANTED\n"
              "from pathlib import Path\n"
              f"raws, reports = _ingest_and_audit({paths!r}, Path(sys.argv[1]))\n"
              "leaks = [p for p in PLANTED if p in reports or any(p in r for r in raws if r)]\n"
              "print(json.dumps({'presidio': 'presidio_analyzer' in sys.modules, 'leaks': leaks}))\n")
    env = {"SYNTH_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
           "TOKENIZERS_PARALLELISM": "false"}
    runs = [json.loads(subprocess.run([sys.executable, "-c", script, str(tmp_path / run)], env=env, check=True,
                                      capture_output=True, text=True, timeout=300).stdout.splitlines()[-1])
            for run in ("cold", "rerun")]
    assert runs == [{"presidio": True, "leaks": []}, {"presidio": False, "leaks": []}]


def test_an_excerpt_is_bounded_and_redacted_value_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_REDACTION_STORE_MB", "0")
    record = {"title": "Letter from Dana Whitfield", "text": "feeling " * 1_300_000 + CALL,
              "notes": "bad \udcff byte", "more": [f"item {i}" for i in range(10_000)]}
    strings = excerpt_strings(record, whole_up_to=200_000)
    assert max(map(len, strings)) <= 600  # the 10 MB text is cut before redaction
    assert len(strings) < 1_000  # members no excerpt can show are not redacted
    with piibulk.redacted(strings, processes=1):
        excerpt = excerpt_text(record, whole_up_to=200_000)
        line = excerpt_text(f"{{broken: {CALL}", whole_up_to=200_000)
    assert len(excerpt) == 500 and excerpt.startswith('{"title": "Letter from [NAME]", "text": "feeling feeling')
    assert "Whitfield" not in line and "415-555-0134" not in line and line.startswith("{broken: ")
    small = {"notes": "bad \udcff byte"}
    with piibulk.redacted(excerpt_strings(small, 200_000), processes=1):
        assert excerpt_text(small, 200_000) == '{"notes": "bad \\\\udcff byte"}'  # escaped, JSON-safe
