"""Long pages assembled from memoised fragments: a change costs a join, not a render.

A tag or year page lists a card per milestone, and a source page a passage per quote: at
100,000 milestones such a page runs to megabytes, and rendering it through the template
costs seconds where joining its parts costs milliseconds. The template is rendered with
its list claiming the real length but holding at most one item (`Looped`): once with none
(the frame: what comes before and after the list) and once with one, which shows where
the list starts and what one item adds. Each item's fragment is memoised by the caller;
the page is the frame's head, the fragments and its tail.

Nothing here knows a template: `Frame.find` checks that the one-item render is the empty
one with the fragment inserted at the place found, and gives None otherwise, so a template
that does something else with its list is rendered whole (tests/test_pages_live.py
compares every page with a whole render).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast, overload

from markupsafe import Markup

from chronicle.projections import MilestoneView

T = TypeVar("T")
Card = Callable[[MilestoneView, int], Markup]


class Looped(Sequence[T]):
    """A list that claims `count` items (its `length` in the template) but yields `shown`."""

    def __init__(self, count: int, shown: Sequence[T] = ()) -> None:
        self.claimed = count
        self.shown = shown

    def __len__(self) -> int:
        return self.claimed

    def __iter__(self) -> Iterator[T]:
        return iter(self.shown)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self.shown[index]


@dataclass(frozen=True, slots=True)
class Frame:
    """A page without its list's items: `head` + the items' fragments + `tail`."""

    head: bytes
    tail: bytes

    @classmethod
    def find(cls, empty: bytes, one: bytes, start: int) -> Frame | None:
        """The frame of `empty` (the page with no items), given `one` (the same page with
        one item whose fragment begins at `start`); None when `one` is not `empty` with
        one fragment inserted there."""
        if start < 0 or start > len(empty) or one[:start] != empty[:start]:
            return None
        if not one.endswith(empty[start:]) or len(one) < len(empty):
            return None
        return cls(empty[:start], empty[start:])

    def fragment(self, page: bytes) -> bytes | None:
        """The one item's fragment of `page` (rendered with one item), or None if `page`
        does not fit this frame."""
        if not (page.startswith(self.head) and page.endswith(self.tail)
                and len(page) >= len(self.head) + len(self.tail)):
            return None
        return page[len(self.head):len(page) - len(self.tail)]

    def join(self, fragments: Iterable[bytes]) -> bytes:
        return b"".join([self.head, *fragments, self.tail])


def cut(page: bytes, frame: Frame, starts: Sequence[bytes]) -> list[bytes] | None:
    """The fragments of a whole render `page`, each beginning with its `starts` needle, in
    order; None when they cannot be found so (the frame or the needles do not fit)."""
    if not (page.startswith(frame.head) and page.endswith(frame.tail)):
        return None
    end = len(page) - len(frame.tail)
    positions: list[int] = []
    at = len(frame.head)
    for needle in starts:
        found = page.find(needle, at, end)
        if found < 0 or (not positions and found != at):
            return None
        positions.append(found)
        at = found + len(needle)
    bounds = [*positions, end]
    return [page[a:b] for a, b in itertools.pairwise(bounds)]


def spliced(render: Callable[[Sequence[T]], bytes], count: int, marker: T,
            locate: Callable[[bytes], int]) -> tuple[Frame, bytes] | None:
    """The frame of a page whose list `render` renders, and `marker`'s fragment: `locate`
    finds where that fragment begins in the page with `marker` as its one item."""
    empty = render(Looped(count))
    one = render(Looped(count, (marker,)))
    frame = Frame.find(empty, one, locate(one))
    fragment = None if frame is None else frame.fragment(one)
    return None if frame is None or fragment is None else (frame, fragment)


_MARK = "\x00chronicle-splice\x00"


def listing(render: Callable[[Sequence[MilestoneView], Card], bytes],
            views: Sequence[MilestoneView],
            cards: Callable[[Sequence[MilestoneView], int], list[bytes]]) -> bytes | None:
    """A page listing `views` through its card callable, as one card's fragment per view
    joined into the frame (`cards`: the views' cards at a heading level as bytes,
    memoised); None when the template's list does not splice."""
    marker = cast(MilestoneView, object())
    levels: set[int] = set()

    def marking(view: MilestoneView, level: int) -> Markup:
        if view is not marker:
            raise SpliceError("the template shows a card the splice did not place")
        levels.add(level)
        return Markup(_MARK)

    try:
        found = spliced(lambda shown: render(shown, marking), len(views), marker,
                        lambda page: page.find(_MARK.encode()))
    except SpliceError:
        return None
    if found is None or not found[1].startswith(_MARK.encode()) or len(levels) != 1:
        return None
    frame, rest, (level,) = found[0], found[1][len(_MARK.encode()):], levels
    if not views:
        return frame.join(())
    # Each card followed by what the template puts after one: card, rest, card, rest, …
    return frame.join((rest.join(cards(views, level)), rest))


class SpliceError(Exception):
    """The template used its list in a way the splice cannot reproduce."""
