"""The pages end to end in headless Chromium: Debian's `chromium` (installed by .ci/run),
driven by Playwright with its executable path set, because no browser can be downloaded.

One walk through what a research PACS team does: sign in, upload a small study, watch it
finish, open the held file, decide its box, see the statistics change, sign out. Each page
is saved as a screenshot under the test's temporary directory."""

from __future__ import annotations

import shutil

import pytest
from conftest import central_text_dicom
from playwright.sync_api import expect, sync_playwright

from test_service import PASSWORD, add_user, planted_ct, served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_sign_in_upload_watch_review_statistics_and_sign_out(browser, tmp_path):
    data_dir, shots = tmp_path / "data", tmp_path / "screenshots"
    assert add_user(data_dir, "ada", "admin").returncode == 0
    study = tmp_path / "study"
    study.mkdir()
    files = [planted_ct(study / "ct.dcm"), central_text_dicom(study, "JOHN SMITHSON")]  # the second is held
    with served(data_dir, "--ocr-engines", "rapidocr") as (client, _, _):
        base = str(client.base_url).rstrip("/")
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))

        def shot(name: str) -> None:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        page.goto(f"{base}/stats")
        expect(page).to_have_url(f"{base}/login")  # no session: the sign-in page
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", PASSWORD)
        shot("1-sign-in")
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{base}/")
        expect(page.locator("header")).to_contain_text("ada (admin)")
        shot("2-jobs")

        page.goto(f"{base}/stats")
        expect(page.locator('[data-total="released_after_review"]')).to_have_text("0")
        files_before = int(page.locator('[data-total="files"]').inner_text())
        shot("3-statistics-before")

        page.goto(f"{base}/")
        page.set_input_files("#upload-form input[type=file]", [str(path) for path in files])
        page.click("#upload-form button[type=submit]")
        expect(page).to_have_url(f"{base}/jobs/1")
        expect(page.locator('[data-field="status"]')).to_have_text("done", timeout=180_000)
        expect(page.locator('[data-field="written"]')).to_have_text("1")
        expect(page.locator('[data-field="held"]')).to_have_text("1")
        expect(page.locator("#download")).to_be_visible()
        shot("4-job-done")

        page.locator("#held-list a").first.click()  # the finished page lists what was held
        expect(page.locator("h1")).to_contain_text("central.dcm")
        preview = page.locator("figure img").first
        expect(preview).to_be_visible()
        assert page.evaluate("image => image.naturalWidth", preview.element_handle()) >= 484  # it loaded
        held_rows = page.locator("#decision-form tr[data-box]")
        assert held_rows.count() >= 1
        expect(held_rows.first.locator("td").nth(3)).not_to_be_empty()  # the reason it was held
        shot("5-held-file")
        for index in range(held_rows.count()):
            held_rows.nth(index).locator('input[value="redact"]').check()
        page.click("#decision-form button[type=submit]")
        expect(page.locator("#decision-message")).to_contain_text("Released")
        shot("6-decided")
        page.reload()
        expect(page.locator("#audit")).to_contain_text("ada")  # who decided, kept in the audit

        page.goto(f"{base}/stats")
        expect(page.locator('[data-total="released_after_review"]')).to_have_text("1")
        assert int(page.locator('[data-total="files"]').inner_text()) == files_before + 2
        expect(page.locator("svg.chart").first).to_be_visible()
        assert page.locator('svg.chart rect[data-series="released_after_review"]').count() >= 1
        shot("7-statistics-after")

        page.goto(f"{base}/review")
        expect(page.locator("main")).to_contain_text("Nothing is held for review")
        page.click("header button[type=submit]")  # sign out
        expect(page).to_have_url(f"{base}/login")
        page.goto(f"{base}/")
        expect(page).to_have_url(f"{base}/login")  # the session ended with the sign-out
        shot("8-signed-out")
        assert failures == [], failures
    assert sorted(path.name for path in shots.iterdir()) == [
        "1-sign-in.png", "2-jobs.png", "3-statistics-before.png", "4-job-done.png", "5-held-file.png",
        "6-decided.png", "7-statistics-after.png", "8-signed-out.png"]
