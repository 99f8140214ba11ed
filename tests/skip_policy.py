"""In CI no test skips silently: a skip whose reason is not declared fails the run.

A skip outside CI is information ("PostgreSQL is down", "the seeds are absent"); in CI the same
skip hides a test that never ran. `tests/declared_skips.toml` lists, as regular expressions
matched against the whole reason, the skips CI accepts and why; any other skip turns an
otherwise green run into exit 1 and is named in the summary. Loaded by `tests/conftest.py`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

DECLARED_SKIPS = Path(__file__).resolve().parent / "declared_skips.toml"
DECLARED_ENV = "CHRONICLE_DECLARED_SKIPS"  # another list, for the policy's own tests
_SKIPPED_PREFIX = "Skipped: "


def in_ci() -> bool:
    """True when `CI` says so, as CI services and `.ci/run` set it."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def declared_patterns(path: Path) -> list[re.Pattern[str]]:
    """The reasons `path` declares; a malformed entry is a usage error, not a silent pass."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    patterns = []
    for index, entry in enumerate(data.get("skip", [])):
        if not (isinstance(entry, dict) and isinstance(entry.get("reason"), str)
                and isinstance(entry.get("why"), str) and entry["why"].strip()):
            raise pytest.UsageError(f"{path}: skip[{index}] needs a `reason` pattern and a `why`")
        patterns.append(re.compile(entry["reason"]))
    return patterns


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skipped report gives (`pytest.skip(...)`'s message, or the marker's)."""
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix(_SKIPPED_PREFIX)


class SkipPolicy:
    """Collects skips during the run and, in CI, fails the session on undeclared ones."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns
        self.undeclared: dict[str, list[str]] = {}

    def _note(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = skip_reason(report)
        if not any(pattern.fullmatch(reason) for pattern in self.patterns):
            self.undeclared.setdefault(reason, []).append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._note(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.undeclared and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.undeclared:
            return
        terminalreporter.section("undeclared skips (CI fails on them)", red=True)
        for reason, nodeids in self.undeclared.items():
            terminalreporter.line(f"{len(nodeids)} skipped: {reason}  (first: {nodeids[0]})")
        terminalreporter.line(f"declare a skip CI may accept in {DECLARED_SKIPS.name}, "
                              "or make the test run")


def pytest_configure(config: pytest.Config) -> None:
    if in_ci():
        path = Path(os.environ.get(DECLARED_ENV) or DECLARED_SKIPS)
        config.pluginmanager.register(SkipPolicy(declared_patterns(path)), "skip-policy")
