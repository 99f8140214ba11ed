"""Feed serving: `chronicle serve` with its default settings under wrk, against nginx.

Both answer the same bytes of /feeds/milestones.atom on 127.0.0.1 in the same run: nginx
serves them as a static file with its own ETag, from a minimal config in a temp directory,
as a non-daemon child that is stopped afterwards. Each server is measured alone (wrk runs
one at a time; the others idle). The alternatives to the default (more workers, granian)
are measured the same way, in the same runs, as rows of their own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from chronicle.bench.figures import Row, Sample, Say, Target
from chronicle.bench.logs import generate_log
from chronicle.bench.options import Sizes, measured_in
from chronicle.bench.setup import SETUP

FEED_PATH = "/feeds/milestones.atom"
TARGETS = {200: 0.6, 304: 0.45}  # issue 21: with the default settings
WRK = ("-t2", "-c32")
NGINX_CONF = """daemon off;
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp-body;
    proxy_temp_path {dir}/tmp-proxy;
    fastcgi_temp_path {dir}/tmp-fastcgi;
    uwsgi_temp_path {dir}/tmp-uwsgi;
    scgi_temp_path {dir}/tmp-scgi;
    types {{ application/atom+xml atom; }}
    server {{
        listen 127.0.0.1:{port};
        root {dir}/root;
        etag on;
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class ServerChoice:
    """One way of serving the app: `chronicle serve` with some workers, or granian."""

    slug: str                  # row name suffix; "" for the default
    label: str
    workers: int | None = None  # None: the default setting
    granian: bool = False


DEFAULT = ServerChoice("", "chronicle serve")
ALTERNATIVES = (
    ServerChoice("uvicorn-2-workers", "chronicle serve, workers = 2", workers=2),
    ServerChoice("granian-2-workers", "granian (ASGI, uvloop), 2 workers", workers=2,
                 granian=True),
)


class ServeUnavailable(Exception):
    """What the serving rows report instead of figures (no serve command, no wrk, no nginx)."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_second: float
    p99_ms: float


def isolated_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its `CHRONICLE_*` settings.

    A bench child must serve the chronicle the bench generated: an inherited
    `CHRONICLE_DATABASE_URL` once made `serve` measure the caller's (empty) database instead.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("CHRONICLE_")}
    return env | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_tools() -> None:
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise ServeUnavailable(f"{tool} not installed (apt-get install -y wrk nginx-light)")


def _duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, seconds: int, headers: dict[str, str]) -> WrkResult:
    args = ["wrk", *WRK, f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True,
                         timeout=seconds + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not rps or not p99 or errors:
        raise RuntimeError(f"wrk failed or saw errors:\n{out}")
    return WrkResult(float(rps.group(1)), _duration_ms(p99.group(1)))


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} after {timeout:.0f} s")


# Runs argv[1:] with SIGTERM as its parent-death signal (Linux's PR_SET_PDEATHSIG = 1, kept
# across exec): a bench killed even by SIGKILL (a test's timeout) leaves no server running.
# A launcher rather than preexec_fn, which is unsafe in a process with threads.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "os.getppid() == int(sys.argv[1]) or sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n")


def _dying_with_us(argv: list[str]) -> list[str]:
    """`argv` so that it ends when this process does (Linux; elsewhere unchanged)."""
    if sys.platform != "linux":
        return argv
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _command(choice: ServerChoice, config: Path, port: int) -> list[str]:
    if choice.granian:
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(choice.workers or 1),
                "--loop", "uvloop", "--no-ws", "--log-level", "warning",
                "chronicle.web.app:app_from_environment"]
    return [sys.executable, "-m", "chronicle", "--config", str(config), "-q", "serve"]


@dataclass(frozen=True, slots=True)
class Launched:
    """A server process started but perhaps not answering yet (see `wait_ready`)."""

    url: str
    proc: subprocess.Popen[bytes]


def wait_ready(server: Launched) -> str:
    """The server's feed URL once it answers; its first render draws every card (slow under
    load), so the app servers are all launched before any is waited for."""
    _wait_ready(server.url, server.proc, timeout=300)
    return server.url


@contextlib.contextmanager
def chronicle_server(directory: Path, database: Path,
                     choice: ServerChoice = DEFAULT) -> Iterator[Launched]:
    """The app served as `choice` says, on the chronicle at `database`, launched."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "chronicle.toml"
    workers = "" if choice.workers is None else f"workers = {choice.workers}\n"
    config.write_text(f'database_url = "sqlite:///{database}"\nsources = []\n'
                      f"[server]\nport = {port}\n{workers}scheduler = false\n"
                      "load_on_start = false\n")
    env = isolated_env(CHRONICLE_CONFIG=str(config))
    proc = subprocess.Popen(_dying_with_us(_command(choice, config, port)), env=env,
                            stdout=subprocess.DEVNULL, stderr=(directory / "serve.log").open("wb"))
    try:
        yield Launched(f"http://127.0.0.1:{port}{FEED_PATH}", proc)
    finally:
        _stop(proc)


@contextlib.contextmanager
def nginx_server(directory: Path, body: bytes) -> Iterator[str]:
    """nginx serving `body` at the feed's path as a static file."""
    feed = directory / "root" / FEED_PATH.lstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes(body)
    port = free_port()
    conf = directory / "nginx.conf"
    # As root, nginx's workers would become "nobody" and could not read a private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(dir=directory, port=port, user=user))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(_dying_with_us([nginx, "-p", str(directory), "-c", str(conf)]),
                            env=isolated_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{FEED_PATH}"
    try:
        _wait_ready(url, proc, timeout=20)
        yield url
    finally:
        _stop(proc)


def conditional_headers(url: str) -> dict[str, str]:
    """The If-None-Match that makes `url` answer 304, checked once."""
    etag = httpx.get(url, timeout=5).headers.get("etag")
    if not etag:
        raise RuntimeError(f"{url} sends no ETag")
    headers = {"If-None-Match": etag}
    status = httpx.get(url, headers=headers, timeout=5).status_code
    if status != 304:
        raise RuntimeError(f"{url} answered {status} to If-None-Match, not 304")
    return headers


def available(choices: tuple[ServerChoice, ...]) -> tuple[ServerChoice, ...]:
    """The choices whose server is installed (granian is in the `bench` extra)."""
    has_granian = importlib.util.find_spec("granian") is not None
    return tuple(choice for choice in choices if has_granian or not choice.granian)


def measure(directory: Path, sizes: Sizes, say: Say) -> list[Row]:
    """The chronicle served has `sizes.served_milestones`; the main feed holds its newest
    `feed.main_size`. The alternatives (no target) get `sizes.spare_runs` of the runs."""
    check_tools()
    seconds, runs, milestones = sizes.wrk_seconds, sizes.runs, sizes.served_milestones
    choices = (DEFAULT, *available(ALTERNATIVES))
    samples: dict[tuple[str, int, str], Sample] = {}
    database = directory / "served.db"
    store, _ = generate_log(database, milestones, milestones_only=True)
    store.close()
    with contextlib.ExitStack() as servers:
        with SETUP.timing("server start-ups"):
            launched = {choice.slug or "ours": servers.enter_context(chronicle_server(
                directory / (choice.slug or "chronicle"), database, choice))
                for choice in choices}
            urls = {who: wait_ready(server) for who, server in launched.items()}
            body = httpx.get(urls["ours"], timeout=10).content
            urls["nginx"] = servers.enter_context(nginx_server(directory / "nginx", body))
            headers = {(who, 304): conditional_headers(url) for who, url in urls.items()}
        for run in range(runs):
            for code in (200, 304):
                for who, url in urls.items():
                    if not measured_in(run, sizes, targeted=who in ("ours", "nginx")):
                        continue
                    result = run_wrk(url, seconds, headers.get((who, code), {}))
                    samples.setdefault((who, code, "rps"), Sample()).runs.append(
                        result.requests_per_second)
                    samples.setdefault((who, code, "p99"), Sample()).runs.append(result.p99_ms)
                    say(f"serve run {run + 1}/{runs}: {who} {code} "
                        f"{result.requests_per_second:,.0f} req/s, p99 {result.p99_ms:.1f} ms")
    return _rows(samples, len(body)) + _alternative_rows(samples, choices[1:], len(body))


def _alternative_rows(samples: dict[tuple[str, int, str], Sample],
                      choices: tuple[ServerChoice, ...], size: int) -> list[Row]:
    """The same figures for each alternative to the default, against the same nginx runs."""
    return [Row(f"serve.{code}.rps.{choice.slug}", "serve",
                f"serve milestones.atom ({size / 1024:.0f} KB), {code}: {choice.label}", "req/s",
                "nginx (static file)", samples[choice.slug, code, "rps"],
                samples["nginx", code, "rps"],
                note=f"an alternative to the default; p99 "
                     f"{samples[choice.slug, code, 'p99'].median:.1f} ms")
            for choice in choices for code in (200, 304)]


def _rows(samples: dict[tuple[str, int, str], Sample], size: int) -> list[Row]:
    rows = []
    for code in (200, 304):
        answer = "200" if code == 200 else "304 (If-None-Match)"
        figure = f"serve milestones.atom ({size / 1024:.0f} KB), {answer}"
        rows.append(Row(f"serve.{code}.rps", "serve", figure, "req/s", "nginx (static file)",
                        samples["ours", code, "rps"], samples["nginx", code, "rps"],
                        Target(">=", TARGETS[code])))
        rows.append(Row(f"serve.{code}.p99", "serve", f"{figure}, p99 latency", "ms",
                        "nginx (static file)", samples["ours", code, "p99"],
                        samples["nginx", code, "p99"], higher_is_better=False,
                        note="ours / nginx: lower is better"))
    return rows


def unavailable_rows(reason: str) -> list[Row]:
    rows = []
    for code in (200, 304):
        for what, unit in (("rps", "req/s"), ("p99", "ms")):
            rows.append(Row(f"serve.{code}.{what}", "serve", f"serve milestones.atom, {code}", unit,
                            "nginx (static file)", skipped=reason))
    return rows
