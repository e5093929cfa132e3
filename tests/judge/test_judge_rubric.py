"""Rubric files: strict loading with errors naming file and key, and the judgment hash."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from synth.errors import ConfigError, TemplateError
from synth.judge.rubric import check_expert_names, load_rubric

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "judges" / "default.yaml"


def copy_rubric(tmp_path: Path, edit=None, name: str = "rubric.yaml") -> Path:  # type: ignore[no-untyped-def]
    for template in ("judge_system.j2", "judge_user.j2"):
        if not (tmp_path / template).exists():
            shutil.copy(REPO / "judges" / template, tmp_path / template)
    data = yaml.safe_load(DEFAULT.read_text())
    if edit:
        edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_default_rubric_loads() -> None:
    rubric = load_rubric(DEFAULT)
    assert list(rubric.criteria) == ["alignment", "authenticity", "style_fit", "safety", "voice"]
    assert all(list(c.scale) == [1, 2, 3, 4, 5] for c in rubric.criteria.values())
    assert rubric.id == "default" and rubric.version == "2" and len(rubric.hash) == 16
    assert set(rubric.accept.fixable) == {"alignment", "authenticity", "style_fit"}


def test_hash_covers_what_the_judge_sees_only(tmp_path: Path) -> None:
    base = load_rubric(copy_rubric(tmp_path)).hash

    def reword(d: dict) -> None:
        d["criteria"]["voice"]["description"] += " Be strict."

    def rescale(d: dict) -> None:
        d["criteria"]["safety"]["scale"][3] = "Mostly safe."

    def threshold(d: dict) -> None:
        d["accept"]["thresholds"]["alignment"] = 4
        d["accept"]["experts"]["practical"] = {"style_fit": 4}
        d["accept"]["fixable"] = ["alignment"]
        d["version"] = "2"

    assert load_rubric(copy_rubric(tmp_path, reword, "a.yaml")).hash != base
    assert load_rubric(copy_rubric(tmp_path, rescale, "b.yaml")).hash != base
    assert load_rubric(copy_rubric(tmp_path, threshold, "c.yaml")).hash == base
    (tmp_path / "judge_user.j2").write_text((tmp_path / "judge_user.j2").read_text() + "\nBe brief.\n")
    assert load_rubric(copy_rubric(tmp_path, None, "d.yaml")).hash != base


@pytest.mark.parametrize("edit, key, message", [
    (lambda d: d["accept"]["thresholds"].pop("voice"), "accept.thresholds", "no threshold for criterion 'voice'"),
    (lambda d: d["criteria"]["voice"]["scale"].pop(5), "criteria.voice.scale", "levels 1-5"),
    (lambda d: d["accept"]["experts"].update(practical={"stylefit": 4}), "accept.experts.practical.stylefit",
     "unknown criterion"),
    (lambda d: d["accept"]["thresholds"].update(alignment=7), "accept.thresholds.alignment", "outside 1-5"),
    (lambda d: d["accept"].update(required_checks=["safety_screen"]), "accept.required_checks.0",
     "safety screen always applies"),
    (lambda d: d["accept"].update(fixable=["tone"]), "accept.fixable.0", "unknown criterion"),
    (lambda d: d["criteria"]["voice"].update(wording="x"), "criteria.voice.wording", "Extra inputs"),
    (lambda d: d["criteria"].update({"Bad Name": d["criteria"]["voice"]}), "criteria.Bad Name", "snake_case"),
    (lambda d: d.pop("id"), "id", "Field required"),
])
def test_errors_name_file_and_key(tmp_path: Path, edit, key: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = copy_rubric(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_rubric(path)
    text = str(info.value)
    assert str(path) in text and f"key {key}" in text and message in text


def test_missing_template_and_bad_yaml(tmp_path: Path) -> None:
    path = copy_rubric(tmp_path, lambda d: d["prompt"].update(system="nope.j2"))
    with pytest.raises(TemplateError, match="nope.j2"):
        load_rubric(path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rubric(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_rubric(tmp_path / "missing.yaml")


def test_per_expert_overrides() -> None:
    rubric = load_rubric(DEFAULT)
    assert rubric.threshold("practical", "alignment") == rubric.accept.thresholds["alignment"]
    check_expert_names(rubric, ["therapeutic", "educational", "empathetic", "practical"])
    with pytest.raises(ConfigError, match="accept.experts.therapeutic"):
        check_expert_names(rubric, ["educational"])
