"""Headless Chromium for the browser tests (Debian ``chromium`` + ``chromium-driver``).

Usage::

    from tests.browser import chromium, serve_folder

    with serve_folder(run_dir) as base_url, chromium(tmp_path) as driver:
        driver.get(f"{base_url}/index.html")

If Chromium or chromedriver is missing the test FAILS (never skips) with how to install them;
CI (``.ci/run``) installs both. Each browser gets a fresh profile under the test's temporary
folder and runs with no network features (no sync, no component updates, no QUIC), so a test
cannot depend on the internet.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["chromium", "serve_folder", "find_chromium", "CHROMIUM_FLAGS", "images_loaded",
           "visible_text"]

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions",
                  "--disable-default-apps", "--mute-audio", "--hide-scrollbars")

_INSTALL = ("install them with 'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu; "
            "CI's .ci/run does this)")


def find_chromium() -> tuple[str, str]:
    """Paths of the Chromium browser and chromedriver; fails the test if either is missing."""
    browser = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    driver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    missing = [n for n, p in (("chromium", browser), ("chromedriver", driver)) if not p]
    if missing:
        pytest.fail(f"the browser test needs {' and '.join(missing)}, not found: {_INSTALL}",
                    pytrace=False)
    return browser, driver


@contextmanager
def chromium(profile_root: str | Path, *, width: int = 1280, height: int = 1600
             ) -> Iterator:
    """A selenium Chrome driver on headless Chromium with a fresh profile; quit at the end."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser test needs selenium: pip install -e '.[dev]'", pytrace=False)
    browser, driver_path = find_chromium()
    profile = Path(profile_root) / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    service = Service(executable_path=driver_path, log_output=str(Path(profile_root) /
                                                                  "chromedriver.log"))
    try:
        driver = webdriver.Chrome(options=opts, service=service)
    except Exception as exc:  # noqa: BLE001 - say what to install or fix, once
        pytest.fail(f"headless Chromium did not start ({browser}, {driver_path}): "
                    f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}; "
                    f"{_INSTALL}", pytrace=False)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve_folder(folder: str | Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="report-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


_IMAGES_JS = """
return Array.from(document.images).map(function (img) {
  return {src: img.currentSrc.slice(0, 40), complete: img.complete,
          width: img.naturalWidth, height: img.naturalHeight};
});
"""


def images_loaded(driver) -> list[dict]:
    """Every ``<img>`` on the page: its source (start), ``complete`` and natural size."""
    return driver.execute_script(_IMAGES_JS)


def visible_text(driver) -> str:
    """The page's rendered text (what a reader sees), spaces collapsed."""
    return " ".join(driver.execute_script("return document.body.innerText;").split())
