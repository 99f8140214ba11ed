"""The shipped systemd unit template is one systemd itself accepts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO

UNIT = REPO / "config" / "deploy" / "chronicle@.service"


def test_systemd_accepts_the_unit_template(tmp_path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    instance = tmp_path / "chronicle@a.service"
    instance.write_text(UNIT.read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(instance)], capture_output=True, text=True,
                            timeout=60, check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "/srv/chronicle/.venv/bin/chronicle" not in line]
    assert problems == [], "\n".join(problems)


def test_every_replica_setting_comes_from_the_environment() -> None:
    text = UNIT.read_text(encoding="utf-8")
    directives = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "EnvironmentFile=/etc/chronicle/%i.env" in directives
    start = next(line for line in directives if line.startswith("ExecStart="))
    assert start == "ExecStart=/srv/chronicle/.venv/bin/chronicle serve"  # no flags: env only
