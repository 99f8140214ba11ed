"""The bench's outputs: one Rich table for people, one JSON document for comparing commits."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from chronicle.bench.figures import Row, Sample
from chronicle.bench.options import Sizes

COLUMNS = (("figure", "left"), ("unit", "left"), ("ours: median (min–max)", "right"),
           ("peer / ceiling", "left"), ("peer: median (min–max)", "right"), ("ratio", "right"),
           ("target", "right"), ("met", "center"))


def _figure(sample: Sample | None, unit: str) -> str:
    if sample is None:
        return "—"
    digits = 1 if unit == "ms" else 0
    if len(sample.runs) == 1:       # a figure no target is set on may get one run
        return f"{sample.median:,.{digits}f}  (1 run)"
    return (f"{sample.median:,.{digits}f}  ({sample.min:,.{digits}f}–{sample.max:,.{digits}f})")


def _met(row: Row) -> str:
    if row.skipped:
        return "[dim]skipped[/dim]"
    if row.met is None:
        return "[dim]—[/dim]"
    return "[green]yes[/green]" if row.met else "[red]NO[/red]"


def table(rows: list[Row], title: str) -> Table:
    """Median (min–max) of ours and of the peer from the same run, their ratio, the target."""
    out = Table(title=title, title_justify="left", show_lines=False)
    for header, justify in COLUMNS:
        out.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        if row.skipped:
            out.add_row(row.figure, row.unit, "—", row.peer_name, f"[dim]{row.skipped}[/dim]",
                        "—", str(row.target or ""), _met(row))
            continue
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "—"
        out.add_row(row.figure, row.unit, _figure(row.ours, row.unit), row.peer_name,
                    _figure(row.peer, row.unit), ratio, str(row.target or row.note), _met(row))
    return out


def commit_hash(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "chronicle"],
                               capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty.strip() else "")


def machine() -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "platform": platform.platform(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg())}


def document(rows: list[Row], sizes: Sizes, *, quick: bool, seconds: float, commit: str,
             notes: list[str]) -> dict[str, Any]:
    return {
        "commit": commit,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": quick,
        "sizes": asdict(sizes),
        "seconds": round(seconds, 1),
        "notes": notes,
        "rows": [row.to_json() for row in rows],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
