"""The serving group measures the chronicle it generated, whatever the caller's environment says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_serve_group_ignores_the_callers_chronicle_settings(tmp_path: Path) -> None:
    empty = tmp_path / "caller.db"
    out = tmp_path / "bench.json"
    env = {"CHRONICLE_DATABASE_URL": f"sqlite:///{empty}", "CHRONICLE_FEED__MAIN_SIZE": "1"}
    result = run_cli("bench", "--quick", "--only", "serve", "--json", str(out), env=env,
                     timeout=300)
    assert result.code == 0, result.stderr[-3000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    figure = rows["serve.200.rps"]["figure"]
    size = re.search(r"\((\d+) KB\)", figure)
    assert size, figure
    # 500 generated milestones, 50 in the main feed: tens of KB. The caller's empty database
    # (or its main_size of 1) would give about 1 KB.
    assert int(size.group(1)) >= 20, figure
    assert not empty.exists(), "the bench touched the caller's database"
