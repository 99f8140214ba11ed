"""`chronicle bench`: our figures against peers and ceilings, measured side by side in one run.

Absolute times on a shared machine are noise; every target is a ratio of two figures taken in
the same run, each the median of several runs.
"""

from chronicle.bench import report
from chronicle.bench.figures import Row, Sample, Target
from chronicle.bench.options import FULL, GROUPS, QUICK, BenchOptions, Sizes
from chronicle.bench.runner import BenchResult, run

__all__ = [
           "FULL",
           "GROUPS",
           "QUICK",
           "BenchOptions",
           "BenchResult",
           "Row",
           "Sample",
           "Sizes",
           "Target",
           "report",
           "run",
]
