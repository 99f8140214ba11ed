"""Milestones, their domain events, and the commands that decide which events to append.

Pure Python and functional: a command looks at a `MilestoneState` (the fold of one
milestone's stream) and returns the events to append, or raises a `DomainError`.
The store knows events only as (type, payload) rows; `to_payload`/`event_from_stored`
are the only bridge between the two.

Milestone payload (JSON-safe, every key always present, in `MILESTONE_FIELDS` order): the
date is nested under "date" as `HistoricalDate.to_json()`; tuples become lists; sources
are objects with "title", "quote", "url", "file" (absent ones as null). One exception:
"translations" is present only when the milestone has any (see chronicle.translations), so the
payloads of milestones without translations keep the shape they had before translations
existed: no new schema version, no upcaster, the same hashes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

from chronicle.anniversary_text import AnniversaryText, MalformedAnniversary
from chronicle.dates import HistoricalDate, InvalidDate, Precision, date_from_json_cached
from chronicle.fieldchecks import (
    Problem,
    list_problems,
    name_problems,
    slug_problems,
    text_problems,
    url_problems,
)
from chronicle.translations import (
    MalformedTranslation,
    Translation,
    translations_from_payload,
    translations_payload,
    translations_problems,
)

MAX_TITLE_LENGTH = 200


# -- errors ---------------------------------------------------------------------------


class DomainError(ValueError):
    """A command refused, or stored data that the domain cannot read."""


class InvalidMilestone(DomainError):
    """A milestone breaks its invariants; `problems` lists every one of them."""

    def __init__(self, milestone_id: object, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"milestone {milestone_id!r} is invalid: {listed}")


class AlreadyRecorded(DomainError):
    """The milestone's stream already holds a MilestoneRecorded."""


class NotRecorded(DomainError):
    """The command needs a recorded milestone and the stream is empty."""


class Retracted(DomainError):
    """The milestone was retracted; it can be neither revised nor retracted again."""


class WrongMilestone(DomainError):
    """A command was given a milestone whose id is not the stream's."""


class InvalidReason(DomainError):
    """A revision or retraction reason is blank or holds forbidden characters."""


class MalformedPayload(DomainError):
    """A stored payload does not have the shape this code reads."""


class UnknownEventType(DomainError):
    """A stored event type that no domain event class reads."""


class CorruptStream(DomainError):
    """Events in an order no command could have produced (e.g. a revision before the record)."""


# -- values ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """Where a milestone's facts come from, with the passage they rest on."""

    title: str
    quote: str
    url: str | None = None
    file: str | None = None

    def problems(self, name: str) -> list[Problem]:
        found = text_problems(f"{name}.title", self.title, required=True)
        found += text_problems(f"{name}.quote", self.quote, required=True, multiline=True)
        found += url_problems(f"{name}.url", self.url)
        found += text_problems(f"{name}.file", self.file, optional=True, required=True)
        if self.url is None and self.file is None:
            found.append(Problem(name, "needs a url or a file"))
        return found

    def to_payload(self) -> dict[str, Any]:
        return {"title": self.title, "quote": self.quote, "url": self.url, "file": self.file}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Source:
        _refuse_unknown_keys("source", data, ("title", "quote", "url", "file"))
        try:
            return cls(
                title=data["title"], quote=data["quote"], url=data.get("url"), file=data.get("file")
            )
        except KeyError as error:
            raise MalformedPayload(f"source payload lacks {error}") from error


def _anniversary_of(data: Mapping[str, Any]) -> AnniversaryText | None:
    stored = data.get("anniversary")
    if stored is None:
        return None
    try:
        return AnniversaryText.from_payload(stored)
    except MalformedAnniversary as error:
        raise MalformedPayload(str(error)) from error


def _source_problems(name: str, value: object) -> list[Problem]:
    if not isinstance(value, Source):
        return [Problem(name, f"must be a source, not {type(value).__name__}")]
    return value.problems(name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Milestone:
    """A fact of the chronicle as currently known: what happened, when, and on what source.

    Construction checks nothing so that a loader can build one from bad input and get
    every problem from `validate()`; commands refuse invalid milestones.
    Lists given for tuple fields are turned into tuples.
    """

    id: str
    title: str
    date: HistoricalDate
    date_caveat: str | None = None
    """Shown with the date wherever it appears: a date known to be doubtful never shows alone."""
    summary: str = ""
    tags: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: str | None = None
    anniversary_of: str | None = None
    translations: tuple[Translation, ...] = ()
    anniversary: AnniversaryText | None = None
    anniversary_posts: bool = True

    def __post_init__(self) -> None:
        for name in ("tags", "people", "places", "sources", "translations"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    def validate(self) -> list[Problem]:
        """Every broken invariant, in field order; empty when the milestone is sound."""
        problems = slug_problems("id", self.id)
        problems += text_problems("title", self.title, required=True, max_length=MAX_TITLE_LENGTH)
        if not isinstance(self.date, HistoricalDate):
            problems.append(Problem("date", "must be a HistoricalDate"))
        problems += text_problems("date_caveat", self.date_caveat, optional=True, required=True)
        problems += text_problems("summary", self.summary, multiline=True)
        problems += list_problems("tags", self.tags, slug_problems)
        problems += list_problems("people", self.people, name_problems)
        problems += list_problems("places", self.places, name_problems)
        problems += list_problems("sources", self.sources, _source_problems)
        if self.sources == ():
            problems.append(Problem("sources", "at least one source is required"))
        problems += text_problems("notes", self.notes, optional=True, multiline=True)
        problems += text_problems(
            "anniversary_of", self.anniversary_of, optional=True, required=True
        )
        problems += translations_problems(self.translations)
        if self.anniversary is not None:
            problems += self.anniversary.problems("anniversary")
            if isinstance(self.date, HistoricalDate) and self.date.precision is not Precision.DAY:
                problems.append(Problem("anniversary", "needs a date known to the day: yearly "
                                        "posts are sent on a day"))
        if not isinstance(self.anniversary_posts, bool):
            problems.append(Problem("anniversary_posts", "must be true or false"))
        return problems

    def translation(self, language: str) -> Translation | None:
        """The milestone's text in `language`, or None (English is the milestone itself)."""
        for translation in self.translations:
            if translation.language == language:
                return translation
        return None

    @property
    def posts_yearly(self) -> bool:
        """Whether this milestone gets anniversary posts: known to the day and not opted out."""
        return self.anniversary_posts and self.date.precision is Precision.DAY

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date.to_json(),
            "date_caveat": self.date_caveat,
            "summary": self.summary,
            "tags": list(self.tags),
            "people": list(self.people),
            "places": list(self.places),
            "sources": [source.to_payload() for source in self.sources],
            "notes": self.notes,
            "anniversary_of": self.anniversary_of,
            "anniversary": None if self.anniversary is None else self.anniversary.to_payload(),
            "anniversary_posts": self.anniversary_posts,
        } | self._translations_payload()

    def _translations_payload(self) -> dict[str, Any]:
        if not self.translations:
            return {}
        return {"translations": translations_payload(self.translations)}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Milestone:
        """Read a payload's shape; invariants are `validate()`'s job, not this one's."""
        _refuse_unknown_keys("milestone", data, MILESTONE_FIELDS)
        missing = [name for name in ("id", "title", "date") if name not in data]
        if missing:
            raise MalformedPayload(f"milestone payload lacks {', '.join(missing)}")
        try:
            date = HistoricalDate.from_json(data["date"])
        except InvalidDate as error:
            raise MalformedPayload(f"milestone {data['id']!r}: date: {error}") from error
        return cls(
            id=data["id"],
            title=data["title"],
            date=date,
            date_caveat=data.get("date_caveat"),
            summary=data.get("summary", ""),
            tags=_tuple_of(data, "tags"),
            people=_tuple_of(data, "people"),
            places=_tuple_of(data, "places"),
            sources=tuple(Source.from_payload(s) for s in _tuple_of(data, "sources")),
            notes=data.get("notes"),
            anniversary_of=data.get("anniversary_of"),
            translations=_translations_of(data),
            anniversary=_anniversary_of(data),
            anniversary_posts=data.get("anniversary_posts", True),
        )

    def with_caveat(self, date_text: str) -> str:
        """Any rendering of the date ("May 2023", "2023"), followed by its caveat if it has one."""
        return f"{date_text} ({self.date_caveat})" if self.date_caveat else date_text

    def date_words(self) -> str:
        """The date in words as readers see it: `date.words()` with the caveat."""
        return self.with_caveat(self.date.words())

    def diff(self, other: Milestone) -> dict[str, tuple[Any, Any]]:
        """Changed fields as name -> (old payload value, new payload value)."""
        empty: dict[str, Any] = {"translations": {}}
        old, new = empty | self.to_payload(), empty | other.to_payload()
        return {name: (old[name], new[name]) for name in MILESTONE_FIELDS if old[name] != new[name]}


MILESTONE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Milestone))


def _refuse_unknown_keys(what: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    if not isinstance(data, Mapping):
        raise MalformedPayload(f"{what} payload must be an object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise MalformedPayload(f"{what} payload has unknown field(s): {', '.join(unknown)}")


def _translations_of(data: Mapping[str, Any]) -> tuple[Translation, ...]:
    try:
        return translations_from_payload(data.get("translations"))
    except MalformedTranslation as error:
        raise MalformedPayload(f"milestone {data.get('id')!r}: {error}") from error


def _tuple_of(data: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    value = data.get(name, ())
    if not isinstance(value, list | tuple):
        raise MalformedPayload(f"milestone {name} must be a list, not {type(value).__name__}")
    return tuple(value)


# -- events ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class DomainEvent:
    """Something that happened to a milestone, as stored in its stream."""

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, slots=True)
class MilestoneRecorded(DomainEvent):
    """A milestone enters the chronicle. Payload: the milestone's payload itself."""

    type: ClassVar[str] = "MilestoneRecorded"
    schema_version: ClassVar[int] = 2  # v1 kept the date as its text; see chronicle.upcasters
    milestone: Milestone

    @property
    def milestone_id(self) -> str:
        return self.milestone.id

    def to_payload(self) -> dict[str, Any]:
        return self.milestone.to_payload()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        return cls(milestone=Milestone.from_payload(payload))


@dataclass(frozen=True, kw_only=True, slots=True)
class MilestoneRevised(DomainEvent):
    """Fields corrected; `changes` maps each changed field to its new payload value."""

    type: ClassVar[str] = "MilestoneRevised"
    schema_version: ClassVar[int] = 2  # v1 kept a changed date as its text
    milestone_id: str
    changes: dict[str, Any]
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.changes, Mapping) or not self.changes:
            raise MalformedPayload(f"{self.type} of {self.milestone_id!r}: no changes")
        unknown = sorted(set(self.changes) - set(MILESTONE_FIELDS[1:]))
        if unknown:
            raise MalformedPayload(
                f"{self.type} of {self.milestone_id!r}: cannot change {', '.join(unknown)}"
            )
        object.__setattr__(self, "changes", copy.deepcopy(dict(self.changes)))

    def to_payload(self) -> dict[str, Any]:
        return {
            "milestone_id": self.milestone_id,
            "changes": copy.deepcopy(self.changes),
            "reason": self.reason,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        _refuse_unknown_keys(cls.type, payload, ("milestone_id", "changes", "reason"))
        try:
            return cls(
                milestone_id=payload["milestone_id"],
                changes=payload["changes"],
                reason=payload["reason"],
            )
        except KeyError as error:
            raise MalformedPayload(f"{cls.type} payload lacks {error}") from error


@dataclass(frozen=True, kw_only=True, slots=True)
class MilestoneRetracted(DomainEvent):
    """A milestone is withdrawn: it leaves feeds and posts but stays in the log."""

    type: ClassVar[str] = "MilestoneRetracted"
    milestone_id: str
    reason: str

    def to_payload(self) -> dict[str, Any]:
        return {"milestone_id": self.milestone_id, "reason": self.reason}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        _refuse_unknown_keys(cls.type, payload, ("milestone_id", "reason"))
        try:
            return cls(milestone_id=payload["milestone_id"], reason=payload["reason"])
        except KeyError as error:
            raise MalformedPayload(f"{cls.type} payload lacks {error}") from error


MilestoneEvent = MilestoneRecorded | MilestoneRevised | MilestoneRetracted
"""What a milestone stream holds; each has `milestone_id`."""

EVENT_TYPES: dict[str, type[MilestoneEvent]] = {
    cls.type: cls for cls in (MilestoneRecorded, MilestoneRevised, MilestoneRetracted)
}


def event_from_stored(
    type_: str, payload: Mapping[str, Any], *, schema_version: int | None = None
) -> MilestoneEvent:
    """Rebuild a domain event from a stored row's type and payload.

    Pass `schema_version` as it is after upcasting: a version this code does not read
    means an upcaster is missing, and is refused rather than misread.
    """
    cls = EVENT_TYPES.get(type_)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise UnknownEventType(f"unknown event type {type_!r} (known: {known})")
    if schema_version is not None and schema_version != cls.schema_version:
        raise MalformedPayload(
            f"{type_} schema version {schema_version} is not readable "
            f"(this code reads version {cls.schema_version})"
        )
    return cls.from_payload(payload)


def stream_id(milestone_id: str) -> str:
    return f"milestone-{milestone_id}"


# -- state ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MilestoneState:
    """One milestone's stream folded: what is known now, whether retracted, how many events.

    `version` counts the events applied: the expected version for the next append.
    `retracted` holds the retraction's reason.
    """

    milestone: Milestone | None
    retracted: str | None
    version: int

    @classmethod
    def initial(cls) -> MilestoneState:
        return cls(None, None, 0)

    def apply(self, event: MilestoneEvent) -> MilestoneState:
        if isinstance(event, MilestoneRecorded):
            if self.milestone is not None:
                raise CorruptStream(f"{event.milestone_id!r} is recorded twice")
            return MilestoneState(event.milestone, None, self.version + 1)
        if isinstance(event, MilestoneRevised):
            current = self._current(event)
            revised = Milestone.from_payload(current.to_payload() | event.changes)
            return MilestoneState(revised, self.retracted, self.version + 1)
        if isinstance(event, MilestoneRetracted):
            return MilestoneState(self._current(event), event.reason, self.version + 1)
        raise TypeError(f"MilestoneState cannot apply {type(event).__name__}")

    def _current(self, event: MilestoneRevised | MilestoneRetracted) -> Milestone:
        """The milestone an event after the first one applies to."""
        if self.milestone is None:
            raise CorruptStream(f"{event.type} of {event.milestone_id!r} before it was recorded")
        if event.milestone_id != self.milestone.id:
            raise CorruptStream(
                f"{event.type} of {event.milestone_id!r} in the stream of {self.milestone.id!r}"
            )
        return self.milestone


def fold(events: Iterable[MilestoneEvent], state: MilestoneState | None = None) -> MilestoneState:
    """Apply events in order, from the initial state or from a given (snapshot) state."""
    folded = MilestoneState.initial() if state is None else state
    for event in events:
        folded = folded.apply(event)
    return folded


# -- commands -------------------------------------------------------------------------


def record(state: MilestoneState, milestone: Milestone) -> list[MilestoneEvent]:
    """Record a new milestone; refused when the stream already has one, even retracted."""
    if state.milestone is not None:
        retracted = " (and retracted)" if state.retracted is not None else ""
        raise AlreadyRecorded(f"milestone {state.milestone.id!r} is already recorded{retracted}")
    _require_valid(milestone)
    return [MilestoneRecorded(milestone=milestone)]


def revise(state: MilestoneState, milestone: Milestone, reason: str) -> list[MilestoneEvent]:
    """Revise to `milestone`: one event with only the changed fields, or none if unchanged."""
    current = _require_live(state, "revise", milestone.id)
    if milestone.id != current.id:
        raise WrongMilestone(
            f"cannot revise {current.id!r} with milestone {milestone.id!r}: ids never change"
        )
    _require_valid(milestone)
    changes = {name: new for name, (_old, new) in current.diff(milestone).items()}
    if not changes:
        return []
    _require_reason(reason)
    return [MilestoneRevised(milestone_id=current.id, changes=changes, reason=reason)]


def retract(state: MilestoneState, reason: str) -> list[MilestoneEvent]:
    """Withdraw a recorded milestone, saying why."""
    current = _require_live(state, "retract", None)
    _require_reason(reason)
    return [MilestoneRetracted(milestone_id=current.id, reason=reason)]


def _require_live(state: MilestoneState, verb: str, milestone_id: str | None) -> Milestone:
    if state.milestone is None:
        named = f" {milestone_id!r}" if milestone_id else ""
        raise NotRecorded(f"cannot {verb} milestone{named}: it is not recorded")
    if state.retracted is not None:
        raise Retracted(
            f"cannot {verb} milestone {state.milestone.id!r}: it was retracted ({state.retracted})"
        )
    return state.milestone


def _require_valid(milestone: Milestone) -> None:
    problems = milestone.validate()
    if problems:
        raise InvalidMilestone(milestone.id, problems)


def _require_reason(reason: str) -> None:
    problems = text_problems("reason", reason, required=True, multiline=True)
    if problems:
        raise InvalidReason("; ".join(f"{p.field}: {p.message}" for p in problems))



def milestone_from_log(payload: Mapping[str, Any]) -> Milestone:
    """`Milestone.from_payload` for a replay: no shape checks, each distinct date parsed once.

    The log (and the read models built from it) only hold payloads that passed
    `from_payload` when they were written, so a replay of millions of them may skip the
    checks; a payload this path cannot read falls back to `from_payload` and its errors.
    """
    try:
        return Milestone(
            id=payload["id"], title=payload["title"],
            date=date_from_json_cached(payload["date"]),
            date_caveat=payload.get("date_caveat"),
            summary=payload.get("summary", ""),
            tags=tuple(payload.get("tags", ())), people=tuple(payload.get("people", ())),
            places=tuple(payload.get("places", ())),
            sources=tuple(Source(title=s["title"], quote=s["quote"], url=s.get("url"),
                                 file=s.get("file")) for s in payload.get("sources", ())),
            notes=payload.get("notes"), anniversary_of=payload.get("anniversary_of"),
            translations=translations_from_payload(payload.get("translations")),
            anniversary=_anniversary_of(payload),
            anniversary_posts=payload.get("anniversary_posts", True),
        )
    except (KeyError, TypeError, AttributeError, InvalidDate, MalformedTranslation):
        return Milestone.from_payload(payload)


def recorded_from_log(payload: Mapping[str, Any]) -> MilestoneRecorded:
    """`MilestoneRecorded.from_payload` for a replay (see `milestone_from_log`)."""
    return MilestoneRecorded(milestone=milestone_from_log(payload))
