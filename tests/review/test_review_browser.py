"""The review page in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

Load, decide, reload: the decision is still there and on disk. Bad requests made from the page
(unknown pair, path traversal) get 4xx. Skipped only where chromium is not installed and not in
CI (scripts/test.sh installs it when run as root).
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from export_fixture import make_run

from synth.files import read_jsonl
from synth.records import ReviewDecision
from synth.review.server import make_server
from synth.review.session import open_review

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)) and not os.environ.get("CI"):
    pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


@pytest.fixture()
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture()
def review(tmp_path):
    config, run = make_run(tmp_path)
    session = open_review(config, run)
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", session
    server.shutdown()
    server.server_close()


def _loaded(driver, url):
    driver.get(url)
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true")


def _card(driver, pair_id):
    return driver.find_element(By.CSS_SELECTOR, f'section.card[data-pair-id="{pair_id}"]')


def test_decide_reload_and_the_decision_is_still_there(browser, review):
    url, session = review
    _loaded(browser, url + "/")
    cards = browser.find_elements(By.CSS_SELECTOR, "section.card")
    assert len(cards) == len(session.items) == 28  # 7 judge-accepted of 8 per expert
    target = session.items[5]
    card = _card(browser, target.pair_id)
    assert target.question in card.text and card.find_element(By.CSS_SELECTOR, ".status").text == "undecided"
    card.find_element(By.CSS_SELECTOR, "textarea.note").send_keys("answers a different question")
    card.find_element(By.CSS_SELECTOR, "button.reject").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f'section.card[data-pair-id="{target.pair_id}"] .status'), "saved: reject"))
    assert "1 of 28 decided" in browser.find_element(By.ID, "progress").text

    _loaded(browser, url + "/")
    card = _card(browser, target.pair_id)
    assert card.find_element(By.CSS_SELECTOR, ".status").text == "saved: reject"
    assert card.find_element(By.CSS_SELECTOR, "textarea.note").get_attribute("value") == \
        "answers a different question"
    assert "reject" in card.get_attribute("class").split()
    saved = list(read_jsonl(session.store.path, ReviewDecision))
    assert [(d.pair_id, d.decision) for d in saved] == [(target.pair_id, "reject")]


def test_page_text_is_not_interpreted_as_html(browser, review):
    url, _session = review
    _loaded(browser, url + "/")
    assert browser.find_elements(By.CSS_SELECTOR, ".card table b") == []
    assert "<b>warm</b> & clear" in browser.find_element(By.ID, "items").text


FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], arguments[1]).then(r => done(r.status)).catch(e => done(String(e)));
"""


def test_bad_requests_from_the_page_get_4xx(browser, review):
    url, _ = review
    _loaded(browser, url + "/")
    post = {"method": "POST", "headers": {"Content-Type": "application/json"},
            "body": '{"pair_id": "no-such-pair", "decision": "reject"}'}
    assert browser.execute_async_script(FETCH, "/api/decisions", post) == 404
    assert browser.execute_async_script(FETCH, "/api/items/..%2f..%2fetc%2fpasswd", {}) == 400
    assert browser.execute_async_script(FETCH, "/api/items/unknown", {}) == 404
    bad_json = dict(post, body="{oops")
    assert browser.execute_async_script(FETCH, "/api/decisions", bad_json) == 400
