"""Every built page, opened in headless Chromium as a reader would see it.

For each page of ``_build/html`` (served on localhost) the test checks that MathJax
typeset every formula (no raw ``\\(``, ``\\[`` or ``$$`` left in the visible text), that
every image loaded (natural width > 0), that the browser's console shows no error,
and, on lecture pages, that the "Open in Colab" link is there. A full-page
screenshot of each page is saved under ``_build/screenshots/`` for people to look at.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them);
where they are missing the tests are skipped and pytest's summary says why.
"""

from __future__ import annotations

import base64
import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from conftest import LECTURES, ROOT

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = ["intro", "teaching", "status", "references", *[f"lectures/{lecture}" for lecture in LECTURES]]

if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "no Chromium found (Debian packages chromium and chromium-driver): the browser "
        "checks of the built pages did not run",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def site_url(built_book: Path):
    """The built site, served over HTTP on a free localhost port."""
    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # no access log on stderr
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # headless as root on a machine with no network: no sandbox, no GPU, and none of
    # Chromium's own background connections (they would be refused)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the system chromedriver, so Selenium Manager never tries to download one
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done("no MathJax"); return; }
MathJax.startup.promise.then(() => done("typeset"), (error) => done("failed: " + error));
"""

PAGE_FACTS = """
const images = Array.from(document.images);
return {
  text: document.body.innerText,
  math: document.querySelectorAll("mjx-container").length,
  mathErrors: document.querySelectorAll("mjx-merror").length,
  images: images.map((image) => ({src: image.currentSrc || image.src,
                                  loaded: image.complete && image.naturalWidth > 0})),
  colab: Array.from(document.querySelectorAll("a[href^='https://colab.research.google.com/']")).map((a) => a.href),
  colabIconHeight: Math.max(0, ...Array.from(document.querySelectorAll(".btn-colab-button img"))
                                  .map((image) => image.getBoundingClientRect().height)),
};
"""


def save_full_page_screenshot(driver, path: Path) -> None:
    """The whole page, not just the window: the viewport is made as tall as the page
    (through the DevTools protocol), captured, and put back."""
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": min(height, 30000), "deviceScaleFactor": 1, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(browser, site_url, page):
    browser.get_log("browser")  # start from an empty console
    browser.get(f"{site_url}/{page}.html")
    browser.set_script_timeout(60)
    mathjax = browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")  # lazy images, if any
    facts = browser.execute_script(PAGE_FACTS)
    save_full_page_screenshot(browser, SCREENSHOTS / f"{page.replace('/', '__')}.png")

    if page.startswith("lectures/"):
        assert mathjax == "typeset", f"{page}: MathJax {mathjax}"
        assert facts["math"] > 0, f"{page}: no typeset formula"
        assert len(facts["colab"]) >= 1, f"{page}: no Open in Colab link"
        # the logo sits in the header like the other icons (unstyled, it is taller than the header)
        assert 0 < facts["colabIconHeight"] < 40, f"{page}: Colab logo is {facts['colabIconHeight']} px tall"
    assert facts["mathErrors"] == 0, f"{page}: {facts['mathErrors']} formulas failed to typeset"
    for raw in ("\\(", "\\)", "\\[", "\\]", "$$"):
        position = facts["text"].find(raw)
        context = facts["text"][max(0, position - 80):position + 80]
        assert position < 0, f"{page}: raw TeX {raw!r} in the visible text: ...{context}..."
    not_loaded = [image["src"] for image in facts["images"] if not image["loaded"]]
    assert facts["images"] if page.startswith("lectures/") else True
    assert not not_loaded, f"{page}: images that did not load: {not_loaded}"
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors: {errors}"


def test_the_checks_catch_raw_tex_and_a_missing_image(browser, site_url, built_book, tmp_path):
    """A page with untypeset TeX and a broken image fails the checks above."""
    bad = built_book / "_browser_check_broken.html"
    bad.write_text('<html><body><p>\\(\\theta\\)</p><img src="missing.png"></body></html>')
    try:
        browser.get_log("browser")
        browser.get(f"{site_url}/{bad.name}")
        facts = browser.execute_script(PAGE_FACTS)
        errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        bad.unlink()
    assert "\\(" in facts["text"]
    assert [image["loaded"] for image in facts["images"]] == [False]
    assert any("missing.png" in message for message in errors)
