"""Screenshots of the pages at desktop and phone widths, light and dark, in headless Chromium.

    .venv/bin/python -m chronicle.pages.screenshots --out tests/screenshots

Without `--url` it starts its own `chronicle serve` on a free port over a temporary SQLite
database loaded from the configured sources, with the anniversary scheduler off and the
clock set by `--now` (so "next anniversary" is the same on every run). The browser is the
system's Chromium (`/usr/bin/chromium`); no browser is ever downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

CHROMIUM = os.environ.get("CHRONICLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
SCHEMES = ("light", "dark")
PAGES = {"home": "/", "milestone": "/milestones/diplomatic-relations-established/"}
DEFAULT_NOW = "2026-01-20T10:00:00+08:00"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chronicle serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"chronicle serve did not become healthy at {base_url}")


@contextlib.contextmanager
def running_server(database_url: str, *, config: Path | None = None,
                   env: Mapping[str, str] | None = None, now: str | None = DEFAULT_NOW,
                   log_path: Path | None = None, set_base_url: bool = True) -> Iterator[str]:
    """A real `chronicle serve` subprocess; yields its base URL and stops it on exit.

    With `set_base_url` false, `feed.base_url` stays as the config file has it (the shipped
    one leaves it unset, so the server derives it from --host/--port)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "CHRONICLE_SERVER__SCHEDULER": "false", **(env or {})}
    full_env.pop("CHRONICLE_FEED__BASE_URL", None)
    if set_base_url:
        full_env["CHRONICLE_FEED__BASE_URL"] = base_url
    if now:
        full_env["CHRONICLE_FAKE_NOW"] = now
    command = [sys.executable, "-m", "chronicle", "--config",
               str(config or REPO / "config" / "chronicle.toml"),
               "--database-url", database_url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with contextlib.ExitStack() as stack:
        log = (stack.enter_context(open(log_path, "wb")) if log_path
               else subprocess.DEVNULL)
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=log, cwd=REPO)
        try:
            wait_healthy(base_url, process)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def take_screenshots(base_url: str, out: Path) -> list[Path]:
    """One PNG per page, viewport and colour scheme (the visible viewport, not the full page)."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for (view, (width, height)), scheme in ((v, s) for v in VIEWPORTS.items()
                                                    for s in SCHEMES):
                context = browser.new_context(viewport={"width": width, "height": height},
                                              color_scheme=scheme)  # type: ignore[arg-type]
                page = context.new_page()
                for name, path in PAGES.items():
                    page.goto(f"{base_url}{path}", wait_until="networkidle")
                    target = out / f"{name}-{view}-{scheme}.png"
                    page.screenshot(path=str(target))
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "screenshots")
    parser.add_argument("--url", help="Screenshot a running server instead of starting one.")
    parser.add_argument("--now", default=DEFAULT_NOW,
                        help="The started server's clock (ISO timestamp with offset).")
    args = parser.parse_args(argv)
    if args.url:
        written = take_screenshots(args.url.rstrip("/"), args.out)
    else:
        with tempfile.TemporaryDirectory() as scratch, running_server(
                f"sqlite:///{Path(scratch) / 'chronicle.db'}", now=args.now,
                env={"CHRONICLE_EXPORT_DIR": scratch}) as base_url:
            written = take_screenshots(base_url, args.out)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
