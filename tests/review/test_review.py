"""Review: stratified seeded sample, atomic decisions, HTTP API errors, CSV round trip, CLI."""
from __future__ import annotations

import csv
import http.client
import json
import threading

import pytest
from export_fixture import make_run

from synth.cli import main
from synth.errors import InputError
from synth.files import read_jsonl
from synth.records import JudgedPair, ReviewDecision
from synth.review.decisions_csv import import_csv, write_csv
from synth.review.server import make_server
from synth.review.session import open_review, sample_for_review


def _judged(run):
    return list(read_jsonl(run.path("judged.jsonl"), JudgedPair))


def test_sample_is_stratified_seeded_and_only_accepted(tmp_path):
    _config, run = make_run(tmp_path, per_expert=14)
    judged = _judged(run)
    sample = sample_for_review(judged, per_expert=5, seed=7)
    by_expert = {}
    for item in sample:
        by_expert.setdefault(item.pair.expert, []).append(item)
        assert item.accepted
    assert sorted(by_expert) == ["educational", "empathetic", "practical", "therapeutic"]
    assert all(len(v) == 5 for v in by_expert.values())
    again = sample_for_review(list(reversed(judged)), per_expert=5, seed=7)
    assert [j.pair.pair_id for j in again] == [j.pair.pair_id for j in sample]
    other = sample_for_review(judged, per_expert=5, seed=8)
    assert [j.pair.pair_id for j in other] != [j.pair.pair_id for j in sample]
    everything = sample_for_review(judged, per_expert=50, seed=7)
    assert len(everything) == sum(j.accepted for j in judged) == 4 * 12


def test_one_experts_volume_does_not_change_anothers_sample(tmp_path):
    _config, run = make_run(tmp_path, per_expert=14)
    judged = _judged(run)
    fewer = [j for j in judged if j.pair.expert != "practical" or j.pair.pair_id < "8"]
    def picked(items):
        return [j.pair.pair_id for j in sample_for_review(items, 4, 1) if j.pair.expert == "therapeutic"]
    assert picked(judged) == picked(fewer)


def test_decisions_latest_wins_and_unknown_pair_is_refused(tmp_path):
    config, run = make_run(tmp_path)
    session = open_review(config, run)
    first = session.items[0].pair_id
    session.decide(first, "reject", "asks for a diagnosis")
    session.decide(session.items[1].pair_id, "accept", "")
    session.decide(first, "accept", "fine after all")
    saved = {d.pair_id: d for d in read_jsonl(session.store.path, ReviewDecision)}
    assert len(saved) == 2 and saved[first].decision == "accept" and saved[first].note == "fine after all"
    with pytest.raises(KeyError):
        session.decide("not-a-pair", "reject", "")
    assert not list(session.store.path.parent.glob(".decisions.jsonl.tmp*"))


def test_review_item_shows_scores_rationale_and_flags(tmp_path):
    config, run = make_run(tmp_path)
    items = {i.pair_id: i for i in open_review(config, run).items}
    flagged = next(i for i in items.values() if any(f.startswith("safety:") for f in i.flags))
    assert flagged.scores["style_fit"] == 4 and flagged.rationales["style_fit"] == "<b>warm</b> & clear"


@pytest.fixture()
def server(tmp_path):
    config, run = make_run(tmp_path)
    session = open_review(config, run)
    srv = make_server(session, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, session
    srv.shutdown()
    srv.server_close()


def _request(srv, method, path, body=None, content_type="application/json", host=None):
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
    headers = {"Content-Type": content_type} if body is not None else {}
    if host is not None:
        headers["Host"] = host
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def test_http_api_saves_a_decision_and_lists_it(server):
    srv, session = server
    status, page = _request(srv, "GET", "/")
    assert status == 200 and b"synth review" in page
    pair_id = session.items[3].pair_id
    body = json.dumps({"pair_id": pair_id, "decision": "reject", "note": "too clinical"})
    status, data = _request(srv, "POST", "/api/decisions", body)
    assert status == 200 and json.loads(data)["decision"] == "reject"
    status, data = _request(srv, "GET", "/api/items")
    listing = json.loads(data)
    assert status == 200 and len(listing["items"]) == len(session.items)
    assert listing["decisions"][pair_id]["note"] == "too clinical"
    status, data = _request(srv, "GET", f"/api/items/{pair_id}")
    assert status == 200 and json.loads(data)["decision"]["decision"] == "reject"


@pytest.mark.parametrize("method,path,body,content_type,expected", [
    ("GET", "/api/items/unknown-pair", None, None, 404),
    ("GET", "/../../etc/passwd", None, None, 400),
    ("GET", "/%2e%2e/%2e%2e/etc/passwd", None, None, 400),
    ("GET", "/api/items/..%2f..%2fetc%2fpasswd", None, None, 400),
    ("GET", "/review_page.html", None, None, 404),
    ("POST", "/api/decisions", "{not json", "application/json", 400),
    ("POST", "/api/decisions", "[1, 2]", "application/json", 400),
    ("POST", "/api/decisions", "pair_id=x&decision=reject", "application/x-www-form-urlencoded", 415),
    ("POST", "/api/decisions", '{"pair_id": "nope", "decision": "reject"}', "application/json", 404),
    ("POST", "/api/elsewhere", "{}", "application/json", 404),
])
def test_bad_requests_get_4xx(server, method, path, body, content_type, expected):
    srv, _ = server
    status, data = _request(srv, method, path, body, content_type or "application/json")
    assert status == expected and "error" in json.loads(data)


@pytest.mark.parametrize("host, expected", [
    ("evil.example.com", 421), ("evil.example.com:8765", 421), ("", 421),
    ("localhost:8765", 200), ("127.0.0.1", 200),
])
def test_host_header_must_be_this_machine_against_dns_rebinding(server, host, expected):
    srv, session = server
    body = json.dumps({"pair_id": session.items[0].pair_id, "decision": "accept"})
    status, _ = _request(srv, "POST", "/api/decisions", body, host=host)
    assert status == expected
    assert session.store.path.exists() == (expected == 200)


def test_bad_decision_value_is_400_and_nothing_is_saved(server):
    srv, session = server
    body = json.dumps({"pair_id": session.items[0].pair_id, "decision": "maybe"})
    status, _ = _request(srv, "POST", "/api/decisions", body)
    assert status == 400 and not session.store.path.exists()


def test_csv_round_trip_saves_valid_rows_and_names_bad_ones(tmp_path):
    config, run = make_run(tmp_path)
    session = open_review(config, run)
    session.decide(session.items[0].pair_id, "accept", "prefilled")
    path = write_csv(session, tmp_path / "sample.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["pair_id"] for r in rows] == [i.pair_id for i in session.items]
    assert rows[0]["decision"] == "accept" and "style_fit: <b>warm</b> & clear" in rows[0]["judge_rationale"]
    rows[1].update(decision="Reject", note="mentions, a \"quote\"\nand a newline")
    rows[2].update(decision="perhaps")
    rows[3].update(pair_id="ghost", decision="reject")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_csv(session, path)
    assert result.saved == 2 and result.blank == len(rows) - 4
    assert "row 4, field 'decision'" in result.errors[0] and "row 5, field 'pair_id'" in result.errors[1]
    saved = session.store.load()
    assert saved[rows[1]["pair_id"]].decision == "reject"
    assert saved[rows[1]["pair_id"]].note == "mentions, a \"quote\"\nand a newline"


def test_csv_without_decision_column_is_an_input_error(tmp_path):
    config, run = make_run(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("pair_id,note\nx,y\n")
    with pytest.raises(InputError, match="decision"):
        import_csv(open_review(config, run), bad)


def test_review_cli_csv_and_import(tmp_path, capsys):
    _config, run = make_run(tmp_path)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"run_dir: {run.root}\nreview: {{samples_per_expert: 2, seed: 3}}\n")
    out = tmp_path / "review.csv"
    assert main(["review", str(config_file), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 8
    rows[0]["decision"] = "reject"
    rows[1]["decision"] = "nonsense"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["review", str(config_file), "--import-csv", str(out), "--reviewer", "ana"]) == 3
    decision = next(read_jsonl(run.path("review", "decisions.jsonl"), ReviewDecision))
    assert (decision.pair_id, decision.decision, decision.reviewer) == (rows[0]["pair_id"], "reject", "ana")
    assert "row 3, field 'decision'" in " ".join(capsys.readouterr().err.split())


def test_review_without_judged_pairs_is_an_input_error(tmp_path):
    config, run = make_run(tmp_path)
    run.path("judged.jsonl").unlink()
    with pytest.raises(InputError, match="judged.jsonl"):
        open_review(config, run)
