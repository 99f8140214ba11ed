"""The bench's servers end with the bench, even when it is killed (a timed-out smoke test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chronicle.bench.serving import _dying_with_us

PARENT = """
import subprocess, sys
from chronicle.bench.serving import _dying_with_us
child = subprocess.Popen(_dying_with_us(["/bin/sleep", "300"]))
print(child.pid, flush=True)
child.wait()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().split()[2] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_server_ends_when_the_bench_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              cwd=Path(__file__).parent.parent)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0] != b"/bin/sleep":
        assert time.monotonic() < deadline, "the launcher never ran the server"
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the server outlived the killed bench"
        time.sleep(0.05)


def test_elsewhere_the_command_is_unchanged_on_linux_it_is_wrapped() -> None:
    wrapped = _dying_with_us(["/bin/true"])
    assert wrapped[-1] == "/bin/true"
    assert (wrapped == ["/bin/true"]) == (sys.platform != "linux")
