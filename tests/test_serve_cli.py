"""`cmf-config serve` as a process: the URL it prints names the port it bound (`--port 0`),
`--open` hands exactly that URL to the web browser (a fake one, through $BROWSER, which
Python's webbrowser module honours), and `--workers 2` serves the same documents."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[1]
URL = re.compile(r"cmf-config serve: (http://127\.0\.0\.1:(\d+)/) \(Ctrl-C stops\)")


def _serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cmf_config", "serve", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _url(process: subprocess.Popen[str]) -> tuple[str, int]:
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = URL.search(line)
        if match:
            return match.group(1), int(match.group(2))
    raise AssertionError(f"no URL printed: {''.join(seen)!r}")


def _get(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=30)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_port_0_prints_the_real_port_and_open_opens_it(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(
        "import sys\nfrom pathlib import Path\n"
        f"Path({str(opened)!r}).write_text(sys.argv[1], encoding='utf-8')\n",
        encoding="utf-8",
    )
    env = {**os.environ, "BROWSER": f"{sys.executable} {browser} %s"}
    process = _serve(["--open"], env)
    stop.append(process)
    url, port = _url(process)
    assert port != 0
    response = _get(url)
    assert response.status_code == 200
    assert "<select" in response.text
    deadline = time.monotonic() + 30
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert opened.read_text(encoding="utf-8") == url


def test_without_open_no_browser_starts(tmp_path: Path, stop: list[subprocess.Popen[str]]) -> None:
    opened = tmp_path / "opened.txt"
    env = {**os.environ, "BROWSER": f"{sys.executable} -c 'open({str(opened)!r}, \"w\")' %s"}
    process = _serve([], env)
    stop.append(process)
    url, _ = _url(process)
    assert _get(url + "api/options?platform=cmf-b-hs").status_code == 200
    time.sleep(1.0)
    assert not opened.exists()


def test_two_workers_answer_the_same_documents(stop: list[subprocess.Popen[str]]) -> None:
    process = _serve(["--workers", "2"], dict(os.environ))
    stop.append(process)
    url, _ = _url(process)
    first = _get(url + "api/step?platform=cmf-b-hs").json()
    again = [_get(url + "api/step?platform=cmf-b-hs").json() for _ in range(4)]
    assert all(doc == first for doc in again)
    assert first["consistent"] is True


def test_a_port_in_use_is_a_usage_error(stop: list[subprocess.Popen[str]]) -> None:
    process = _serve([], dict(os.environ))
    stop.append(process)
    _, port = _url(process)
    taken = subprocess.run(
        [sys.executable, "-m", "cmf_config", "serve", "--port", str(port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert taken.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    assert "Traceback" not in taken.stderr
