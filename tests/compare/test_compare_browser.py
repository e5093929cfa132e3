"""reports/compare.html read in a real headless Chromium at 1300 px (issue 20): nothing runs off
the right edge, figures read as percentages. Skipped only where chromium is not installed and
not in CI (scripts/test.sh installs it when run as root)."""
from __future__ import annotations

import os
import shutil

import pytest
from export_fixture import make_run

from synth.compare.report import write_compare_report
from synth.records import SetComparison, SetMetrics

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1300,900"]
WIDTH = 1300


def _results() -> list[SetComparison]:
    """Three sets with long ids and model names, every column filled, one set never judged."""
    experts = ("therapeutic", "educational", "empathetic", "practical")

    def metrics(judged: int, accepted: int) -> dict:
        return {"pairs": 36, "judged": judged, "accepted": accepted,
                "accept_rate": accepted / judged if judged else None,
                "mean_scores": {c: 3.4166 for c in ("alignment", "authenticity", "style_fit", "safety", "voice")}
                if judged else {},
                "failed": 1, "spend_usd": 0.012345, "cost_per_accepted_usd": 0.012345 / accepted if accepted else None,
                "distinct_bigrams": 0.912345, "embedding_distance": 0.41666, "question_words": 23.4166}
    out = []
    for i, (model, judged) in enumerate([("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", 36),
                                         ("meta-llama/Llama-3.3-70B-Instruct-with-a-long-name", 36),
                                         ("smollm2-135m", 0)]):
        out.append(SetComparison(id=f"{i}f3a9c2e7b1d", provider="vllm", model=model, segments=12,
                                 judge="offline+checks-1a2b3c4d", rubric="default v3 (9f8e7d6c)",
                                 other_judge=0 if judged else 36, **metrics(judged, 3 * (i + 1) if judged else 0),
                                 experts={e: SetMetrics(**metrics(judged // 4, i + 1 if judged else 0))
                                          for e in experts}))
    return out


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)) and not os.environ.get("CI"),
                    reason="chromium / chromedriver not installed (apt-get install chromium chromium-driver)")
def test_compare_page_fits_1300_px(tmp_path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    _config, run = make_run(tmp_path)
    write_compare_report(run, _results())
    page = run.reports / "compare.html"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_window_size(WIDTH, 900)
        driver.get(page.as_uri())
        inner = driver.execute_script("return window.innerWidth")
        assert abs(inner - WIDTH) <= 20, inner  # the viewport is the width the issue names
        assert driver.execute_script("return document.documentElement.scrollWidth") <= inner
        rights = driver.execute_script(
            "return [...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)")
        assert rights and max(rights) <= inner, rights  # every table inside the page
        text = driver.find_element("tag name", "body").text
        assert "8.3%" in text and "$0.0123" in text and "0.08333" not in text
        assert "not judged by offline+checks-1a2b3c4d" in text
        assert driver.save_screenshot(str(tmp_path / "compare-1300.png"))
    finally:
        driver.quit()
