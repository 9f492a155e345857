"""The configurator in a real headless Chromium (Debian's package, driven by Playwright).

The server is uvicorn on 127.0.0.1 on a free port, in a thread. Skipped only outside CI when
Chromium is absent; under CI=true a missing Chromium fails the run. Set CMF_SCREENSHOTS=DIR
to keep the screenshots (docs/serve-screenshot.png is made that way).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _chromium() -> str:
    path = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "Chromium is missing in CI: .ci/run must install it (apt-get install chromium)"
            )
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    import uvicorn

    from cmf_config.web.app import create_app

    app = create_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield launched
        launched.close()


def _shots(tmp_path: Path) -> Path:
    kept = os.environ.get("CMF_SCREENSHOTS")
    return Path(kept) if kept else tmp_path


def _status(page: Any) -> str:
    return str(page.inner_text("#status"))


def test_configure_in_the_browser(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page.goto(base_url + "/")
    assert page.locator("#s-brand option.excluded").count() == 0  # nothing excluded yet

    # pick a platform: values grey out, with the rules that exclude them
    with page.expect_navigation():
        page.select_option("#s-platform", "cmf-b-hs")
    assert "platform=cmf-b-hs" in page.url
    assert page.evaluate("document.activeElement.id") == "s-platform"  # focus came back
    greyed = page.locator("#s-brand option.excluded")
    assert greyed.count() > 0
    dacia = page.locator('#s-brand option[value="dacia"]')
    assert dacia.get_attribute("class") == "excluded"
    assert "dacia-platforms" in dacia.inner_text()
    page.click("#why-brand summary")
    shots = _shots(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "serve-screenshot.png"))
    why = page.inner_text("#why-brand")
    assert "dacia-platforms" in why
    assert "rules/brands.yaml:" in why

    # pick the greyed value: the page explains the conflict and offers the nearest fix
    with page.expect_navigation():
        page.select_option("#s-brand", "dacia")
    status = _status(page)
    assert "Conflict" in status
    page.screenshot(path=str(shots / "serve-conflict.png"))
    explanation = page.inner_text("pre.explanation")
    assert "Because you chose" in explanation
    assert "dacia-platf" in explanation
    assert "\n    so " in explanation
    with page.expect_navigation():
        page.click("#fix")
    assert "Consistent" in _status(page)
    assert "brand=dacia" in page.url
    assert "platform=cmf-b-hs" not in page.url

    # keyboard: a choice made with the arrow keys applies and keeps the focus
    page.focus("#s-segment")
    with page.expect_navigation():
        page.keyboard.press("ArrowDown")
    assert "segment=" in page.url
    assert page.evaluate("document.activeElement.id") == "s-segment"

    # complete at least cost: every slot chosen, one vehicle left
    with page.expect_navigation():
        page.click("#complete-cost")
    assert "Valid" in _status(page)
    assert page.inner_text("#count") == "1"
    img = page.locator("#diagram img")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")

    page.screenshot(path=str(shots / "serve-complete.png"))

    # download the YAML and validate it with the CLI
    with page.expect_download() as info:
        page.click("#download")
    saved = tmp_path / "download.yaml"
    info.value.save_as(str(saved))
    done = subprocess.run(
        [sys.executable, "-m", "cmf_config", "validate", str(saved)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout

    # readable at phone width: one column, nothing wider than the screen
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(shots / "serve-phone.png"))
    phone.close()
    page.close()
