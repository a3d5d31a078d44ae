"""A reader's walk through the served shipped dataset, in headless Chromium driven by Selenium.

Chromium and ChromeDriver come from Debian's packages (``make browser``); Selenium is pointed at
``/usr/bin/chromedriver`` so that Selenium Manager never downloads a driver. Without them these
tests fail and say how to install them, unless ``SINLOD_SKIP_BROWSER=1`` asks to skip them.
Screenshots go to ``tests/output/`` (ignored by git) for people to look at.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUTPUT = Path(__file__).resolve().parent.parent / "output"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,1000",
)


def require_chromium() -> None:
    """Fail (not skip) without Chromium, unless skipping was asked for explicitly."""
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return
    if os.environ.get("SINLOD_SKIP_BROWSER") == "1":
        pytest.skip("SINLOD_SKIP_BROWSER=1: browser tests skipped on request")
    pytest.fail(
        f"headless Chromium is needed for the browser tests ({CHROMIUM}, {CHROMEDRIVER}):"
        " run `make browser` (or set SINLOD_SKIP_BROWSER=1 to skip them)",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, seconds: float = 15) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def heading(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page, not only the window (Chrome DevTools Protocol), as a PNG."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 5000)}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}},
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def other_hosts(driver: WebDriver, server: str) -> list[str]:
    """Every resource the page loaded from somewhere other than this server."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith(server)]


def severe_console_messages(driver: WebDriver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_walk_landing_browse_resource_link_back(browser: WebDriver, shipped_server: str) -> None:
    browser.get(shipped_server + "/")
    assert heading(browser) == "Social Innovation Linked Open Data"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    screenshot(browser, "landing")

    browser.find_element(By.CSS_SELECTOR, 'a[href="/browse/Project"]').click()
    wait(browser).until(ec.url_contains("/browse/Project"))
    assert heading(browser) == "Project"
    screenshot(browser, "browse")

    browser.find_element(By.LINK_TEXT, "Social Innovation Community").click()
    wait(browser).until(ec.url_contains("/doc/project/sic"))  # /id/ answered 303 → /doc/
    assert heading(browser) == "Social Innovation Community"
    assert (
        "AEIDL: coordinator"
        in browser.find_element(By.ID, "relations").find_element(By.XPATH, "..").text
    )
    screenshot(browser, "resource")

    browser.find_element(By.CSS_SELECTOR, "ul.relations a[href$='/id/organisation/aeidl']").click()
    wait(browser).until(ec.url_contains("/doc/organisation/aeidl"))
    assert heading(browser) == "AEIDL"

    browser.back()
    wait(browser).until(ec.url_contains("/doc/project/sic"))
    assert heading(browser) == "Social Innovation Community"
    assert other_hosts(browser, shipped_server) == []
    assert severe_console_messages(browser) == []


def test_query_page_runs_an_example_in_yasgui(browser: WebDriver, shipped_server: str) -> None:
    browser.get(shipped_server + "/")
    browser.find_element(By.CSS_SELECTOR, "header.site nav a[href='/sparql']").click()
    wait(browser).until(ec.url_contains("/sparql"))
    assert heading(browser) == "SPARQL query"
    wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#yasgui[data-ready='true']"))
    )
    assert not browser.find_element(By.ID, "query-form").is_displayed()  # YASGUI replaced it
    tabs = [t.text.split("\n")[0] for t in browser.find_elements(By.CSS_SELECTOR, ".tabsList .tab")]
    assert tabs[:2] == [
        "Who coordinates SIC, and with which role",
        "Events in Brussels in 2018, with their participants",
    ]

    browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()
    rows = wait(browser).until(
        ec.presence_of_all_elements_located((By.CSS_SELECTOR, ".tabPanel.active .yasr tbody tr"))
    )
    text = " ".join(r.text for r in rows)
    assert "AEIDL" in text and "coordinator" in text
    assert len(rows) >= 5
    hrefs = [a.get_attribute("href") for a in rows[0].find_elements(By.TAG_NAME, "a")]
    assert hrefs == [
        shipped_server + "/id/organisation/aeidl",  # not https://w3id.org/sinlod/id/...
        shipped_server + "/def/roles/coordinator",
    ]
    screenshot(browser, "query")
    assert other_hosts(browser, shipped_server) == []
    assert severe_console_messages(browser) == []


def test_not_found_page_searches_by_name(browser: WebDriver, shipped_server: str) -> None:
    browser.get(shipped_server + "/doc/project/no-such-project")
    assert heading(browser) == "404 Not Found"
    screenshot(browser, "not-found")
    box = browser.find_element(By.ID, "q-missing")
    box.send_keys("BOLOGNA")
    box.submit()
    wait(browser).until(ec.url_contains("q=BOLOGNA"))
    hits = browser.find_element(By.CSS_SELECTOR, "ul.hits").text
    assert "University of Bologna" in hits


def active_tab(driver: WebDriver) -> dict[str, str]:
    return driver.execute_script(  # type: ignore[no-any-return]
        "const tab = window.sinlodYasgui.getTab();"
        "return {name: tab.getName(), query: tab.getQuery(), endpoint: tab.getEndpoint()};"
    )


def open_query_page(driver: WebDriver, url: str) -> None:
    driver.get("about:blank")  # a new document even when only the fragment differs
    driver.get(url)
    wait(driver).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#yasgui[data-ready='true']"))
    )


def test_example_links_and_shared_links_stay_on_this_server(
    browser: WebDriver, shipped_server: str
) -> None:
    open_query_page(browser, shipped_server + "/sparql?example=05-places-nuts")
    tab = active_tab(browser)
    assert tab["name"] == "Places and their NUTS 2021 regions"
    assert tab["endpoint"] == shipped_server + "/sparql"

    # A "Share query" link that names another endpoint opens on this one.
    link = browser.execute_script(
        "return window.sinlodYasgui.getTab().getShareableLink(arguments[0])",
        shipped_server + "/sparql",
    )
    assert link.startswith(shipped_server + "/sparql#")
    link = link.replace("endpoint=http", "endpoint=https%3A%2F%2Fdbpedia.org%2Fsparql&x=http")
    assert "endpoint=https%3A%2F%2Fdbpedia.org" in link
    open_query_page(browser, link)
    shared = active_tab(browser)
    assert "sinlod:nutsRegion ?nuts" in shared["query"]
    assert shared["endpoint"] == shipped_server + "/sparql"
    assert other_hosts(browser, shipped_server) == []


def test_missing_chromium_fails_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a silent skip: the message says what to run."""
    monkeypatch.setattr(f"{__name__}.CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("SINLOD_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"run `make browser`"):
        require_chromium()
    monkeypatch.setenv("SINLOD_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="SINLOD_SKIP_BROWSER=1"):
        require_chromium()
