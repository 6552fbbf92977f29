"""A real headless Chromium for the web page's tests (the system's, via its chromedriver).

Nothing is downloaded: selenium is pointed at ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (Debian's ``chromium`` and ``chromium-driver``, which
``.ci/run`` installs), and Selenium Manager is told to stay offline. The
browser keeps a CDP performance log, so a test can list every request the page
made.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tests.support.environment import private_temp_environment

CHROMIUM = os.environ.get("PDFBINDER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PDFBINDER_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
)
DESKTOP = (1280, 900)
PHONE = (390, 844)
WAIT = 30.0

T = TypeVar("T")


class Browser:
    """One Chromium window, its download folder, and the requests it has made."""

    def __init__(self, download_dir: Path) -> None:
        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "safebrowsing.enabled": False,
            },
        )
        self.download_dir = download_dir
        # Chromium's temp folder beside the downloads: its singleton socket, left in /tmp
        # otherwise whenever the browser is ended by chromedriver.
        scratch = download_dir.parent / f"{download_dir.name}-chromium-tmp"
        service = Service(CHROMEDRIVER, env=private_temp_environment(scratch))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(download_dir)},
        )
        self.driver.set_window_size(*DESKTOP)
        self.requests: list[str] = []

    def quit(self) -> None:
        self.driver.quit()

    def open(self, url: str, *, size: tuple[int, int] = DESKTOP) -> None:
        """A fresh page: no files, no stored key, no recent jobs from an earlier test."""
        self.driver.set_window_size(*size)
        self.driver.get(url)
        self.driver.execute_script("sessionStorage.clear(); localStorage.clear();")
        self.driver.get(url)
        self.wait(lambda: self.driver.execute_script("return document.body.dataset.ready"))

    def wait(self, condition: Callable[[], T], timeout: float = WAIT, what: str = "") -> T:
        """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}")
            time.sleep(0.05)

    def drop(self, paths: list[Path]) -> None:
        """Drop files on the drop zone, as a drag from the desktop delivers them.

        The files are read through a throw-away file input (the only way a
        page can be handed real files), then given to the page in a ``drop``
        event's DataTransfer, so the page's own drop handler takes them.
        """
        from selenium.webdriver.common.by import By

        self.driver.execute_script(
            "const input = document.createElement('input');"
            "input.type = 'file'; input.multiple = true; input.id = 'test-drop-source';"
            "document.body.append(input);"
        )
        source = self.driver.find_element(By.ID, "test-drop-source")
        source.send_keys("\n".join(str(path) for path in paths))
        self.driver.execute_script(
            "const input = document.getElementById('test-drop-source');"
            "const data = new DataTransfer();"
            "for (const file of input.files) data.items.add(file);"
            "const zone = document.getElementById('drop-zone');"
            "for (const type of ['dragenter', 'dragover', 'drop']) {"
            "  zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,"
            "    dataTransfer: data}));"
            "}"
            "input.remove();"
        )

    def file_names(self) -> list[str]:
        """The names in the file list, top to bottom."""
        names: list[str] = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#file-list .name'))"
            ".map((node) => node.textContent);"
        )
        return names

    def row(self, name: str) -> Any:
        from selenium.webdriver.common.by import By

        for row in self.driver.find_elements(By.CSS_SELECTOR, "#file-list .file"):
            if row.find_element(By.CSS_SELECTOR, ".name").text == name:
                return row
        raise AssertionError(f"no row for {name}: {self.file_names()}")

    def wait_uploaded(self, count: int) -> None:
        """Until ``count`` rows have finished uploading and previewing."""
        script = "return document.querySelectorAll('#file-list .file[data-busy=false]').length;"
        self.wait(lambda: self.driver.execute_script(script) >= count, what="uploads")

    def wait_result(self) -> dict[str, Any]:
        """Until the job ends; the download link's URL, or the error shown."""
        script = (
            "const link = document.getElementById('download');"
            "const error = document.getElementById('job-error-message');"
            "if (link) return {url: link.href, facts: document.querySelector('.result-facts')"
            ".textContent};"
            "if (error) return {error: error.textContent};"
            "return null;"
        )
        result: dict[str, Any] = self.wait(
            lambda: self.driver.execute_script(script), what="the job's end"
        )
        return result

    def download(self, name: str) -> bytes:
        """Click the result's download link; the bytes the browser saved."""
        from selenium.webdriver.common.by import By

        target = self.download_dir / name
        target.unlink(missing_ok=True)
        self.driver.find_element(By.ID, "download").click()
        self.wait(
            lambda: target.is_file() and not Path(f"{target}.crdownload").exists(),
            what=f"{name} in the download folder",
        )
        return target.read_bytes()

    def collect_requests(self) -> list[str]:
        """URLs of every request made since the last call (from the performance log)."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
        return self.requests

    def screenshot(self, path: Path) -> None:
        self.driver.save_screenshot(str(path))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
