"""The README's commands are the ones CI runs, so the quick start cannot rot."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = _shell_blocks(quick_start)
    assert len(blocks) == 2, "the quick start has exactly two set-up commands"
    run_command, test_command = blocks
    assert "chronicle serve" in run_command and "pip install" in run_command
    assert "pytest" in test_command
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines, ".ci/run must run the README's test command verbatim"


def test_every_command_in_the_usage_list_exists() -> None:
    from typer.main import get_command

    from chronicle.cli import app

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    usage = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"^chronicle ([a-z-]+)", _shell_blocks(usage)[0], flags=re.M))
    registered = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert names - {"--help"} <= registered, sorted(names - registered - {"--help"})
