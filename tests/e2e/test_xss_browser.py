"""In headless Chromium, script written into the data never runs (issue 13, item 6).

The store holds a thing whose labels carry ``<script>`` and ``onerror=`` markup and whose
objects are ``javascript:``, ``vbscript:`` and ``data:`` IRIs, each of which would set
``window.__pwned``. The page is loaded, every link on it is clicked, and the marker must stay
unset. A script element the page itself would add inline is blocked by the Content-Security-Policy.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from sinlod.server import create_app
from tests.e2e.conftest import running_server
from tests.e2e.test_browser import browser  # noqa: F401 - the module's Chromium fixture
from tests.server.conftest import TOKEN

pytestmark = pytest.mark.browser

THING = "https://w3id.org/sinlod/id/project/xss"
P = "https://w3id.org/sinlod/def/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DATA = f"""
<{THING}> a <{P}Project> ; <{LABEL}> "xss <script>window.__pwned='label'</script>" ;
  <{P}note> "<img src=x onerror=\\"window.__pwned='img'\\">" ;
  <{P}a> <javascript:window.__pwned='js'> ;
  <{P}b> <JavaScript://%0awindow.__pwned='js2'> ;
  <{P}c> <vbscript:msgbox(1)> ;
  <{P}d> <data:text/html,%3Cscript%3Ewindow.__pwned='data'%3C/script%3E> ;
  <{P}e> <https://example.org/fine> .
<javascript:window.__pwned='browse'> a <{P}Project> ; <{LABEL}> "xss twin" .
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, shipped_store: Path) -> Iterator[str]:
    from sinlod.config import Settings

    store = tmp_path_factory.mktemp("xss") / "store"
    shutil.copytree(shipped_store, store, symlinks=True)
    settings = dataclasses.replace(
        Settings.load(env={}, store_path=store), update_token=TOKEN, shacl_gate=False
    )
    with running_server(create_app(settings)) as url:
        r = httpx.put(
            url + "/graph-store",
            params={"graph": "https://w3id.org/sinlod/graph/xss"},
            content=DATA.encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle"},
            timeout=120,  # an ungated write into the shipped store: seconds on a busy machine
        )
        assert r.status_code in (201, 204), r.text
        yield url


def _click_everything(driver: WebDriver, url: str) -> int:
    """Load ``url`` and click each of its links in turn (coming back after each); the number."""
    driver.get(url)
    drawn(driver)
    count = len(driver.find_elements(By.CSS_SELECTOR, "a[href]"))
    for i in range(count):
        links = driver.find_elements(By.CSS_SELECTOR, "a[href]")
        href = links[i].get_attribute("href")
        if not isinstance(href, str):  # an SVG link (the map's markers): its attribute as written
            href = links[i].get_dom_attribute("href") or ""
        assert not href.lower().startswith(("javascript:", "vbscript:", "data:")), href
        if href.startswith(url.split("/doc/")[0]) or "example.org" in href:
            continue  # an ordinary link: nothing to run
        # a click event, not .click(): SVG links (the map's markers) have no click() method
        driver.execute_script(
            "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
            links[i],
        )
        assert driver.execute_script("return window.__pwned") is None
        driver.get(url)
        drawn(driver)
    return count


def drawn(driver: WebDriver) -> None:
    """Wait for the page's pictures (the map's links come with its markers, after loading)."""
    WebDriverWait(driver, 30).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'figure[data-state="loading"]')
    )


def test_injected_script_never_runs(browser: WebDriver, hostile_server: str) -> None:  # noqa: F811
    for path in ("/doc/project/xss", "/browse/Project?page=1", "/?q=xss"):
        url = hostile_server + path
        browser.get(url)
        assert "xss" in browser.page_source
        assert browser.execute_script("return window.__pwned") is None, path
        _click_everything(browser, url)
        assert browser.execute_script("return window.__pwned") is None, path
    browser.get(hostile_server + "/doc/project/xss")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "javascript:window.__pwned='js'" in text  # shown, as text
    fine = browser.find_elements(By.CSS_SELECTOR, "a[href='https://example.org/fine']")
    assert fine, "an ordinary external link stays a link"


def test_the_policy_blocks_inline_script(browser: WebDriver, hostile_server: str) -> None:  # noqa: F811
    """Were markup ever to slip through, an inline script would not run: Chromium enforces the
    page's Content-Security-Policy (a script element added to the page stays inert)."""
    browser.get(hostile_server + "/doc/project/xss")
    browser.execute_script(
        "var s = document.createElement('script');"
        " s.textContent = 'window.__inline = 1'; document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.__inline") is None
    browser.execute_script(
        "var a = document.createElement('a'); a.href = \"javascript:window.__pwned='href'\";"
        " document.body.appendChild(a); a.click();"
    )
    assert browser.execute_script("return window.__pwned") is None
