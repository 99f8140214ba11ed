"""Which runs measure which figure: every run for what a target compares, fewer for the rest."""

from __future__ import annotations

import dataclasses

import pytest

from chronicle.bench import FULL, QUICK
from chronicle.bench.appends import TARGETS, _targeted, runs_of
from chronicle.bench.contenders import contenders_for
from chronicle.bench.options import Sizes, measured_in


@pytest.mark.parametrize("sizes", [FULL, QUICK])
def test_a_targeted_figure_gets_every_run_a_spare_one_the_middle_runs(sizes: Sizes) -> None:
    assert [measured_in(run, sizes, targeted=True) for run in range(sizes.runs)] == [True] * 3
    assert [measured_in(run, sizes, targeted=False) for run in range(sizes.runs)] == [
        False, True, False]


@pytest.mark.parametrize("sizes", [FULL, QUICK])
def test_the_one_event_appends_get_five_runs_their_spare_figures_the_middle_one(
        sizes: Sizes) -> None:
    runs = runs_of("single", sizes)
    assert (runs, runs_of("batch", sizes)) == (5, 3)
    assert [measured_in(run, sizes, targeted=True, runs=runs) for run in range(runs)] == [
        True] * 5
    assert [measured_in(run, sizes, targeted=False, runs=runs) for run in range(runs)] == [
        False, False, True, False, False]


def test_spare_runs_as_many_as_runs_measure_everything_every_run() -> None:
    sizes = dataclasses.replace(FULL, runs=5, spare_runs=5)
    assert all(measured_in(run, sizes, targeted=False) for run in range(5))
    three_of_five = dataclasses.replace(FULL, runs=5, spare_runs=3)
    assert [measured_in(run, three_of_five, targeted=False) for run in range(5)] == [
        False, True, True, True, False]


@pytest.mark.parametrize(("kind", "workload"), sorted(TARGETS))
def test_ours_and_the_contender_of_each_target_are_targeted_and_no_other(
        kind: str, workload: str) -> None:
    targeted = [cls.name for cls in contenders_for(kind, workload)
                if _targeted(kind, workload, cls.name)]
    against = TARGETS[(kind, workload)][0]
    assert targeted[0] == "chronicle" and len(targeted) == 2
    assert targeted[1].split()[-1].lower() == against
