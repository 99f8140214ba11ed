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


def _pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("==", 1) for line in lines if "==" in line and not line.startswith("#")]
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pairs}


def test_installs_use_the_constraints_and_the_readme_names_the_tested_versions() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for command in _shell_blocks(quick_start):
        assert "pip install -q -c constraints.txt -e " in command, command
    pins = _pins()
    assert "chronicle" not in pins, "the project itself is not pinned"
    tested = re.search(r"^Tested with Python [\d.]+ .*\((.*)\)\.$", readme, flags=re.M)
    assert tested, "the README states the tested versions (.ci/lock writes the line)"
    named = [item.rsplit(" ", 1) for item in tested.group(1).split(", ")]
    assert len(named) >= 5
    for name, version in named:
        assert pins.get(re.sub(r"[-_.]+", "-", name).lower()) == version, (
            f"README says {name} {version}, constraints.txt pins {pins.get(name.lower())}")


def test_the_quick_subset_uses_declared_markers_and_ci_runs_the_linters() -> None:
    import tomllib

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    development = readme.split("## Working on the code", 1)[1].split("\n## ", 1)[0]
    quick = re.search(r'pytest -m "([^"]+)"', development)
    assert quick, "the development section shows the quick subset"
    used = set(re.findall(r"\bnot (\w+)", quick.group(1)))
    pytest_ini = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {m.split(":")[0] for m in pytest_ini["tool"]["pytest"]["ini_options"]["markers"]}
    assert used == {"slow", "browser"} and used <= declared
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "export CI=true" in ci_lines
    assert any(line.startswith(".venv/bin/ruff check .") for line in ci_lines)
    assert ".venv/bin/mypy" in ci_lines
