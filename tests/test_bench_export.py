"""The bench's export row: each site stays until the group's last export, then goes.

On ext4 without a journal, creating files right after many were deleted costs several times
the system CPU (chronicle.bench.export): an export must not follow the removal of the last.
"""

from __future__ import annotations

from pathlib import Path

from chronicle.bench.export import describe, export_once, measure


def test_an_export_leaves_its_site_for_the_caller(tmp_path: Path) -> None:
    out = tmp_path / "site"
    run = export_once(tmp_path, 60, out)
    files = [path for path in out.rglob("*") if path.is_file()]
    assert len(files) == run.documents + 1   # and the manifest
    assert run.user > 0 and run.system >= 0
    assert "CPU: user" in describe(60, run)


def test_no_site_is_removed_before_the_last_export(tmp_path: Path) -> None:
    present: list[list[str]] = []

    def say(line: str) -> None:   # told after each export
        if line.startswith("export ") and "milestones:" in line:
            present.append(sorted(site.name for site in tmp_path.glob("site-*")))

    rows = measure(tmp_path, (40, 60), 2, say)
    assert present == [["site-40-0"], ["site-40-0", "site-60-0"],
                       ["site-40-0", "site-40-1", "site-60-0"],
                       ["site-40-0", "site-40-1", "site-60-0", "site-60-1"]]
    assert not list(tmp_path.glob("site-*"))   # all removed once measured
    assert [row.name for row in rows] == ["export.60"]
