"""CI fails on a skip nobody declared; elsewhere a skip stays one line of information.

Each case runs a real pytest session in a subprocess over a small test file, with the policy
plugin (`tests/skip_policy.py`) loaded as `tests/conftest.py` loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SKIPPING = """
import pytest

def test_runs() -> None:
    assert True

def test_needs_a_tool() -> None:
    pytest.skip("frobnicate is not installed")
"""


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"CI", "CHRONICLE_DECLARED_SKIPS"}}
    full_env |= {"PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120,
                          check=False)


def _pytest(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A session of its own in `folder`, with the policy plugin loaded."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return _run(folder, "-p", "tests.skip_policy", *args, env=env)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "test_sample.py").write_text(SKIPPING, encoding="utf-8")
    return tmp_path


def test_an_undeclared_skip_fails_ci_and_is_named(suite: Path) -> None:
    empty = suite / "declared.toml"
    empty.write_text("", encoding="utf-8")
    run = _pytest(suite, env={"CI": "true", "CHRONICLE_DECLARED_SKIPS": str(empty)})
    assert run.returncode == 1, run.stdout
    assert "undeclared skips" in run.stdout
    assert "1 skipped: frobnicate is not installed" in run.stdout
    assert "test_sample.py::test_needs_a_tool" in run.stdout


def test_a_declared_skip_passes_ci(suite: Path) -> None:
    declared = suite / "declared.toml"
    declared.write_text('[[skip]]\nreason = "frobnicate is not installed"\n'
                        'why = "a test of the policy"\n', encoding="utf-8")
    run = _pytest(suite, env={"CI": "true", "CHRONICLE_DECLARED_SKIPS": str(declared)})
    assert run.returncode == 0, run.stdout
    assert "undeclared" not in run.stdout and "1 skipped" in run.stdout


def test_a_pattern_must_match_the_whole_reason(suite: Path) -> None:
    declared = suite / "declared.toml"
    declared.write_text('[[skip]]\nreason = "frobnicate"\nwhy = "too loose"\n', encoding="utf-8")
    run = _pytest(suite, env={"CI": "true", "CHRONICLE_DECLARED_SKIPS": str(declared)})
    assert run.returncode == 1, run.stdout


def test_a_declaration_without_why_is_refused(suite: Path) -> None:
    declared = suite / "declared.toml"
    declared.write_text('[[skip]]\nreason = "frobnicate is not installed"\n', encoding="utf-8")
    run = _pytest(suite, env={"CI": "true", "CHRONICLE_DECLARED_SKIPS": str(declared)})
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "skip[0] needs a `reason` pattern and a `why`" in run.stderr


def test_outside_ci_a_skip_is_information(suite: Path) -> None:
    run = _pytest(suite, "-ra", env={})
    assert run.returncode == 0, run.stdout
    assert "SKIPPED [1]" in run.stdout and "undeclared" not in run.stdout


def test_the_repository_declares_its_skips_in_a_valid_list() -> None:
    from tests.skip_policy import DECLARED_SKIPS, declared_patterns

    assert all(pattern.pattern for pattern in declared_patterns(DECLARED_SKIPS))


def _dataset(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(REPO, "tests/test_dataset.py", "-ra", "-k", "quote_their_files", env=env)


def test_without_seeds_the_quote_checks_skip_in_one_line(tmp_path: Path) -> None:
    run = _dataset({"CHRONICLE_SEEDS_DIR": str(tmp_path / "absent")})
    assert run.returncode == 0, run.stdout
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "quote checks cannot run" in skipped[0], run.stdout
    assert "1 skipped" in run.stdout


def test_without_seeds_ci_fails(tmp_path: Path) -> None:
    run = _dataset({"CI": "true", "CHRONICLE_SEEDS_DIR": str(tmp_path / "absent")})
    assert run.returncode == 1, run.stdout
    assert "CI requires the source documents" in run.stdout
