"""``/validate`` in headless Chromium: a steward's broken sheet uploaded shows the right cells
red, the fixed sheet shows green with no findings, the SARIF download is the CLI's report, and
with the token the preview and the publish work from the page.

The server is real uvicorn (``running_server``) with the rules and mappings of
``tests/fixtures/validate``; screenshots go to ``tests/output/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from sinlod.config import Settings
from sinlod.server import create_app
from tests.conftest import FIXTURES, run_cli
from tests.e2e.conftest import running_server
from tests.e2e.test_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    FLAGS,
    browser,
    require_chromium,
    screenshot,
    severe_console_messages,
    wait,
)

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

pytestmark = pytest.mark.browser

VALIDATE = FIXTURES / "validate"
BROKEN = VALIDATE / "records" / "projects.csv"
TOKEN = "steward-token"
FOLDERS = {"shapes_dir": "shapes", "ontology_dir": "ontology", "data_dir": "data"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    dirs = {key: VALIDATE / folder for key, folder in FOLDERS.items()}
    settings = Settings.load(
        env={},
        store_path=tmp_path_factory.mktemp("validate-page") / "store",
        mappings_dir=VALIDATE / "mappings",
        update_token=TOKEN,
        **dirs,
    )
    with running_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def fixed_sheet(tmp_path: Path) -> Path:
    """The broken sheet as the steward fixes it: a description for p09, a full start date for
    p10, an end after the start for sic (same name: the mapping is found by it)."""
    text = BROKEN.read_text(encoding="utf-8")
    text = text.replace("p09,Project 9,,", "p09,Project 9,The ninth,")
    text = text.replace(",2010-10,", ",2010-10-01,")
    text = text.replace("The eleventh,2016-02-01,2015", "The eleventh,2016-02-01,2019-01-31")
    path = tmp_path / "fixed" / "projects.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def upload(browser: WebDriver, server: str, path: Path) -> None:
    browser.get(server + "/validate")
    browser.find_element(By.ID, "file").send_keys(str(path))
    browser.find_element(By.ID, "check").click()
    wait(browser, 30).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("data-state") == "shown"
    )


def marked_cells(browser: WebDriver) -> dict[tuple[str, str], tuple[str, str]]:
    """(row, column) → (severity class, computed background colour) of every marked cell."""
    found = {}
    for cell in browser.find_elements(By.CSS_SELECTOR, "table.grid [class*='sev-']"):
        severity = next(
            c for c in (cell.get_attribute("class") or "").split() if c.startswith("sev-")
        )
        key = (cell.get_attribute("data-row") or "", cell.get_attribute("data-column") or "")
        found[key] = (severity, cell.value_of_css_property("background-color"))
    return found


def test_broken_sheet_shows_the_right_cells_red(browser: WebDriver, server: str) -> None:
    upload(browser, server, BROKEN)
    cells = marked_cells(browser)
    red, amber = "rgba(248, 201, 196, 1)", "rgba(255, 233, 168, 1)"
    assert cells == {
        ("11", "start"): ("sev-violation", red),
        ("12", "end"): ("sev-violation", red),
        ("10", ""): ("sev-warning", amber),
    }
    end = browser.find_element(By.ID, "cell-0-12-end")
    assert end.text == "2015"
    assert end.get_attribute("title") == (
        "Violation: Project end date must not be before its start date"
    )
    summary = browser.find_element(By.ID, "summary")
    assert summary.text == "projects.csv: 2 violations, 1 warning, 0 infos"
    items = browser.find_elements(By.CSS_SELECTOR, "#findings li")
    assert [i.text.split(" ", 1)[0] for i in items] == [
        "projects.csv:10",
        "projects.csv:11",
        "projects.csv:12",
    ]
    # Clicking a finding scrolls to its cell and outlines it.
    items[2].find_element(By.TAG_NAME, "a").click()
    wait(browser).until(lambda d: "focused" in (end.get_attribute("class") or ""))
    assert browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;",
        end,
    )
    screenshot(browser, "validate-broken")
    assert severe_console_messages(browser) == []


def test_fixed_sheet_is_green_without_findings(
    browser: WebDriver, server: str, fixed_sheet: Path
) -> None:
    upload(browser, server, fixed_sheet)
    assert marked_cells(browser) == {}
    assert browser.find_element(By.ID, "summary").text.endswith(
        "0 violations, 0 warnings, 0 infos: no findings"
    )
    assert browser.find_element(By.ID, "no-findings").is_displayed()
    cell = browser.find_element(By.ID, "cell-0-12-end")
    assert cell.text == "2019-01-31"
    assert cell.value_of_css_property("background-color") == "rgba(232, 245, 233, 1)"  # green
    screenshot(browser, "validate-fixed")


def test_report_downloads_as_the_cli_sarif(
    browser: WebDriver,
    server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    upload(browser, server, BROKEN)
    browser.find_element(By.CSS_SELECTOR, "#download-form button[value=sarif]").click()
    target = downloads / "projects.validation.sarif"
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    sarif = json.loads(target.read_text(encoding="utf-8"))
    config = tmp_path / "sinlod.toml"
    config.write_text(
        "[sinlod]\n"
        + "".join(f'{k} = "{VALIDATE / f}"\n' for k, f in FOLDERS.items())
        + f'mappings_dir = "{VALIDATE / "mappings"}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(BROKEN.parent)
    cli = run_cli(["--config", str(config), "validate", "-q", "--format", "sarif", BROKEN.name])
    assert sarif == json.loads(cli.stdout)
    results = sarif["runs"][0]["results"]
    places = [
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["level"]) for r in results
    ]
    assert places == [(10, "warning"), (11, "error"), (12, "error")]


def test_preview_then_publish_with_the_token(
    browser: WebDriver, server: str, fixed_sheet: Path
) -> None:
    upload(browser, server, fixed_sheet)
    browser.find_element(By.ID, "dataset").clear()
    browser.find_element(By.ID, "dataset").send_keys("steward")
    browser.find_element(By.ID, "token").send_keys("wrong")
    browser.find_element(By.ID, "preview-button").click()
    error = wait(browser, 30).until(ec.visibility_of_element_located((By.ID, "publish-error")))
    assert "Authorization: Bearer" in error.text
    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "preview-button").click()
    wait(browser, 30).until(ec.visibility_of_element_located((By.ID, "preview")))
    text = browser.find_element(By.ID, "publish-result").text
    assert "into dataset steward would change" in text
    assert "graph/steward/projects> (0 -> " in text
    screenshot(browser, "validate-preview")
    browser.find_element(By.ID, "publish-button").click()
    published = wait(browser, 30).until(ec.visibility_of_element_located((By.ID, "published")))
    assert published.text.startswith("Published into dataset steward: release ")
    logged = severe_console_messages(browser)
    assert [m for m in logged if "status of 401 (Unauthorized)" not in m] == []  # the wrong token


@pytest.fixture(scope="module")
def plain_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Chromium with JavaScript switched off."""
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-plain')}")
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_without_javascript_the_form_answers_with_the_grid(
    plain_browser: WebDriver, server: str
) -> None:
    plain_browser.get(server + "/validate")
    plain_browser.find_element(By.ID, "file").send_keys(str(BROKEN))
    plain_browser.find_element(By.ID, "check").click()
    wait(plain_browser, 30).until(ec.presence_of_element_located((By.ID, "summary")))
    assert plain_browser.current_url == server + "/validate"  # a form POST, not a script
    assert plain_browser.find_element(By.ID, "result").get_attribute("data-state") is None
    red = "rgba(248, 201, 196, 1)"
    assert marked_cells(plain_browser) == {
        ("11", "start"): ("sev-violation", red),
        ("12", "end"): ("sev-violation", red),
        ("10", ""): ("sev-warning", "rgba(255, 233, 168, 1)"),
    }
    plain_browser.find_element(By.CSS_SELECTOR, "#findings li:nth-child(3) a").click()
    assert plain_browser.current_url.endswith("#cell-0-12-end")
    screenshot(plain_browser, "validate-no-script")
