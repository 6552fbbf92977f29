"""The page for people, driven in headless Chromium against ``pdfbinder serve``."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pikepdf
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from tests.support.compat import (
    ServeProcess,
    make_jpeg,
    make_pdf,
    make_png,
    pdf_pages,
    poll_job,
)
from tests.support.web import DESKTOP, PHONE, Browser, origin
from tests.web.screenshots import take_screenshots


def page_images(data: bytes) -> list[bytes]:
    """The raw (still encoded) bytes of each page's one image, in page order."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        found = []
        for page in pdf.pages:
            xobjects = page.Resources.XObject.values()
            (image,) = [item for item in xobjects if item.Subtype == "/Image"]
            found.append(image.read_raw_bytes())
        return found


@pytest.fixture
def three_jpegs(tmp_path: Path) -> dict[str, bytes]:
    """Three JPEGs of different sizes and colours (their bytes go into the PDF unchanged)."""
    images = {
        "first.jpg": make_jpeg(64, 48, (200, 40, 40)),
        "second.jpg": make_jpeg(48, 64, (40, 160, 40)),
        "third.jpg": make_jpeg(80, 40, (40, 40, 200)),
    }
    for name, data in images.items():
        (tmp_path / name).write_bytes(data)
    return images


def test_dropped_images_dragged_into_a_new_order_convert_in_that_order(
    browser: Browser, page_server: ServeProcess, tmp_path: Path, three_jpegs: dict[str, bytes]
) -> None:
    browser.open(page_server.url)
    browser.drop([tmp_path / name for name in three_jpegs])
    browser.wait_uploaded(3)
    assert browser.file_names() == ["first.jpg", "second.jpg", "third.jpg"]

    handle = browser.row("third.jpg").find_element(By.CSS_SELECTOR, ".handle")
    top = browser.row("first.jpg")
    (
        ActionChains(browser.driver)
        .click_and_hold(handle)
        .move_by_offset(0, -20)
        .move_to_element_with_offset(top, 0, -top.size["height"] // 2 + 4)
        .release()
        .perform()
    )
    assert browser.file_names() == ["third.jpg", "first.jpg", "second.jpg"]

    assert browser.driver.find_element(By.ID, "merge-options").get_attribute("hidden")
    Select(browser.driver.find_element(By.ID, "page-size")).select_by_visible_text("A4")
    browser.driver.find_element(By.ID, "margin").send_keys("10mm")
    run = browser.driver.find_element(By.ID, "run")
    assert run.text == "Convert to PDF"
    run.click()
    result = browser.wait_result()
    assert "error" not in result, result
    assert result["facts"].startswith("3 pages · ")
    assert "link valid until" in result["facts"]
    data = browser.download("result.pdf")
    order = ["third.jpg", "first.jpg", "second.jpg"]
    assert page_images(data) == [three_jpegs[name] for name in order]
    assert {(round(w), round(h)) for w, h in pdf_pages(data)} == {(595, 842)}  # A4, as chosen


def test_keyboard_alone_reorders_and_runs_the_job(
    browser: Browser, page_server: ServeProcess, tmp_path: Path, three_jpegs: dict[str, bytes]
) -> None:
    browser.open(page_server.url)
    browser.drop([tmp_path / name for name in three_jpegs])
    browser.wait_uploaded(3)
    driver = browser.driver
    keys = ActionChains(driver)

    def active() -> str:
        name: str = driver.execute_script(
            "const node = document.activeElement;"
            "return (node.id || node.className) + '|' + (node.getAttribute('aria-label') || '');"
        )
        return name

    def tab_until(wanted: str, limit: int = 60) -> None:
        for _ in range(limit):
            if active().startswith(wanted):
                return
            keys.send_keys(Keys.TAB).perform()
        raise AssertionError(f"Tab never reached {wanted}; at {active()}")

    driver.find_element(By.TAG_NAME, "body").click()  # start from the top of the page
    tab_until("handle|Move third.jpg")
    keys.send_keys(Keys.ARROW_UP).perform()
    assert browser.file_names() == ["first.jpg", "third.jpg", "second.jpg"]
    assert active() == "handle|Move third.jpg, position 2 of 3"  # focus stays on the handle
    keys.send_keys(Keys.HOME).perform()
    assert browser.file_names() == ["third.jpg", "first.jpg", "second.jpg"]
    announced = browser.wait(
        lambda: driver.find_element(By.ID, "announcer").text, what="the announcement"
    )
    assert announced == "third.jpg moved to position 1 of 3."
    tab_until("handle|Move second.jpg")
    keys.send_keys(Keys.ARROW_UP).perform()
    assert browser.file_names() == ["third.jpg", "second.jpg", "first.jpg"]
    visible = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle;")
    assert visible == "solid"  # focus is drawn

    tab_until("run|")
    keys.send_keys(Keys.ENTER).perform()
    result = browser.wait_result()
    assert "error" not in result, result
    state = driver.find_element(By.ID, "job")
    assert state.get_attribute("aria-live") == "polite"
    assert "Done" in state.text
    with httpx.stream("GET", result["url"]) as response:
        data = response.read()
    order = ["third.jpg", "second.jpg", "first.jpg"]
    assert page_images(data) == [three_jpegs[name] for name in order]


def outline_titles(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_outline() as outline:
        return [item.title for item in outline.root]


def test_merging_pdfs_and_an_image_with_one_bookmark_per_file(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    files = {
        "annual report.pdf": make_pdf(2, width=300, height=400),
        "appendix.pdf": make_pdf(3, width=400, height=300),
        "site photo.jpg": make_jpeg(64, 48),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    browser.open(page_server.url)
    browser.drop([tmp_path / name for name in files])
    browser.wait_uploaded(3)
    driver = browser.driver
    assert driver.find_element(By.ID, "run").text == "Merge into one PDF"
    assert not driver.find_element(By.ID, "merge-options").get_attribute("hidden")
    driver.find_element(By.CSS_SELECTOR, "label[for=bookmarks-nest]").click()
    name_field = driver.find_element(By.ID, "output-name")
    name_field.clear()
    name_field.send_keys("bundle.pdf")
    driver.find_element(By.ID, "run").click()
    result = browser.wait_result()
    assert "error" not in result, result
    assert result["facts"].startswith("6 pages · ")
    data = browser.download("bundle.pdf")
    # Titles are the files' own names without the extension (stored names are made safe
    # for URLs, "annual_report.pdf", but the bookmark keeps the name as the user gave it).
    assert outline_titles(data) == ["annual report", "appendix", "site photo"]


def test_the_drop_zone_names_office_documents_where_the_server_converts_them(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    accepted = (By.ID, "accepted-kinds")
    browser.open(page_server.url)  # LibreOffice is installed (.ci/run)
    assert browser.driver.find_element(*accepted).text == (
        "Images, PDFs, ZIP archives and Office and text documents."
    )
    no_programs = tmp_path / "bin"
    no_programs.mkdir()
    with ServeProcess(tmp_path / "data", env={"PATH": str(no_programs)}) as bare:
        browser.open(bare.url)
        assert browser.driver.find_element(*accepted).text == "Images, PDFs and ZIP archives."


def test_a_pdfs_page_range_and_password_are_used(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    (tmp_path / "long.pdf").write_bytes(make_pdf(5, width=200, height=100))
    (tmp_path / "locked.pdf").write_bytes(make_pdf(2, width=300, height=150, password="pw"))
    browser.open(page_server.url)
    browser.drop([tmp_path / "long.pdf", tmp_path / "locked.pdf"])
    browser.wait_uploaded(2)
    locked = browser.row("locked.pdf")
    problem = locked.find_element(By.CSS_SELECTOR, ".problem").text
    assert problem == "locked.pdf: this PDF is encrypted: give its password"
    password = locked.find_element(By.CSS_SELECTOR, "input.password")
    assert password.get_attribute("aria-invalid") == "true"
    password.send_keys("pw", Keys.TAB)  # the preview is asked for again with it
    browser.wait(
        lambda: "2 pages" in browser.row("locked.pdf").find_element(By.CSS_SELECTOR, ".meta").text,
        what="the unlocked preview",
    )
    assert browser.row("locked.pdf").find_element(By.CSS_SELECTOR, ".problem").text == ""
    pages = browser.row("long.pdf").find_element(By.CSS_SELECTOR, "input.pages")
    assert pages.get_attribute("id") == browser.row("long.pdf").find_element(
        By.CSS_SELECTOR, ".mini-field label"
    ).get_attribute("for")  # labelled
    pages.send_keys("z,1")
    browser.driver.find_element(By.ID, "run").click()
    result = browser.wait_result()
    assert "error" not in result, result
    with httpx.stream("GET", result["url"]) as response:
        data = response.read()
    assert pdf_pages(data) == [(200.0, 100.0), (200.0, 100.0), (300.0, 150.0), (300.0, 150.0)]


def test_a_corrupt_file_shows_the_apis_message_and_the_others_stay(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    files = {
        "good.png": make_png(60, 40),
        "broken.jpg": b"\xff\xd8\xff\xe0 this is not a JPEG at all",
        "also-good.jpg": make_jpeg(40, 60),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    # What the API itself says about this file: the preview, and the job.
    base = page_server.url
    urls = []
    for name, data in files.items():
        target = httpx.get(f"{base}/file/upload/get-presigned-url", params={"name": name}).json()
        httpx.put(target["presignedUrl"], content=data).raise_for_status()
        urls.append(target["url"])
    preview = httpx.get(f"{base}/file/thumbnail", params={"url": urls[1]}).json()
    started = httpx.post(
        f"{base}/pdf/convert/from/image", json={"url": ",".join(urls), "async": True}
    ).json()
    failed = poll_job(base, started["jobId"])
    assert failed["status"] == "failed"

    browser.open(base)
    browser.drop([tmp_path / name for name in files])
    browser.wait_uploaded(3)
    problem = browser.wait(
        lambda: browser.row("broken.jpg").find_element(By.CSS_SELECTOR, ".problem").text,
        what="the broken file's problem",
    )
    assert problem == preview["message"]

    browser.driver.find_element(By.ID, "run").click()
    result = browser.wait_result()
    assert result == {"error": failed["message"]}
    alert = browser.driver.find_element(By.ID, "job-error")
    assert alert.get_attribute("role") == "alert"
    assert browser.file_names() == list(files)  # nothing was lost
    for name in ("good.png", "also-good.jpg"):
        assert browser.row(name).find_element(By.CSS_SELECTOR, ".problem").text == ""


def test_a_server_with_api_keys_makes_the_page_ask_for_one(
    browser: Browser, tmp_path: Path, three_jpegs: dict[str, bytes]
) -> None:
    with ServeProcess(tmp_path / "data", "--api-key", "right-key") as server:
        browser.open(server.url)
        driver = browser.driver
        browser.drop([tmp_path / "first.jpg", tmp_path / "second.jpg"])
        dialog = driver.find_element(By.ID, "key-dialog")
        browser.wait(lambda: dialog.get_attribute("open") is not None, what="the key dialog")
        assert "API key" in driver.find_element(By.ID, "key-reason").text
        assert driver.switch_to.active_element == driver.find_element(By.ID, "key-input")

        ActionChains(driver).send_keys("wrong-key", Keys.ENTER).perform()
        browser.wait(
            lambda: "not accepted" in driver.find_element(By.ID, "key-reason").text,
            what="the key to be refused",
        )
        ActionChains(driver).send_keys("right-key", Keys.ENTER).perform()
        browser.wait(lambda: dialog.get_attribute("open") is None, what="the dialog to close")
        browser.wait_uploaded(2)
        driver.find_element(By.ID, "run").click()
        result = browser.wait_result()
        assert "error" not in result, result
        with httpx.stream("GET", result["url"]) as response:
            data = response.read()
        assert page_images(data) == [three_jpegs["first.jpg"], three_jpegs["second.jpg"]]

        session, local = driver.execute_script(
            "return [JSON.stringify(sessionStorage), JSON.stringify(localStorage)];"
        )
        assert "right-key" in session
        assert "right-key" not in local


def test_the_page_talks_only_to_its_own_server(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    (tmp_path / "pages.pdf").write_bytes(make_pdf(2, width=300, height=400))
    (tmp_path / "photo.jpg").write_bytes(make_jpeg(50, 40))
    browser.collect_requests()  # forget what earlier tests did
    browser.requests.clear()

    browser.open(page_server.url)
    browser.drop([tmp_path / "pages.pdf", tmp_path / "photo.jpg"])
    browser.wait_uploaded(2)
    assert "2 pages" in browser.row("pages.pdf").find_element(By.CSS_SELECTOR, ".meta").text
    browser.driver.find_element(By.ID, "run").click()
    result = browser.wait_result()
    assert "error" not in result, result
    browser.driver.refresh()  # recent jobs are re-checked on load
    browser.wait(lambda: browser.driver.execute_script("return document.body.dataset.ready"))
    browser.wait(
        lambda: "Ready" in browser.driver.find_element(By.ID, "recent-list").text,
        what="the recent job",
    )

    recent = browser.driver.find_element(By.CSS_SELECTOR, "#recent-list a")
    assert recent.get_attribute("href") == result["url"]
    browser.driver.find_element(By.ID, "clear-recent").click()
    assert browser.driver.find_elements(By.CSS_SELECTOR, "#recent-list li") == []
    assert browser.driver.execute_script("return localStorage.length") == 0

    requests = browser.collect_requests()
    paths = {httpx.URL(url).path for url in requests if url.startswith("http")}
    for expected in ("/", "/web/main.js", "/file/upload/get-presigned-url", "/file/thumbnail"):
        assert expected in paths, sorted(paths)
    assert {"/pdf/merge2", "/job/check"} <= paths
    assert any(path.startswith("/upload/") for path in paths)  # the presigned PUT
    foreign = [
        url
        for url in requests
        if not url.startswith(("blob:", "data:")) and origin(url) != page_server.url
    ]
    assert foreign == []


def test_the_readme_screenshots_can_be_taken_again(
    browser: Browser, page_server: ServeProcess, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    saved = take_screenshots(browser, page_server.url, tmp_path / "shots", tmp_path / "in")
    # The name sort is natural (2 before 10), whatever order the files were dropped in.
    assert browser.file_names() == ["contract.pdf", "scan 1.jpg", "scan 2.jpg", "scan 10.jpg"]
    widths = {}
    for path in saved:
        with Image.open(path) as shot:
            widths[path.name] = shot.size[0]
    assert widths == {"desktop.png": DESKTOP[0], "phone.png": PHONE[0]}
    assert all(path.stat().st_size < 200_000 for path in saved)
