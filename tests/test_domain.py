"""Milestones, events, the folded state and the commands."""

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronicle.dates import HistoricalDate
from chronicle.domain import (
    EVENT_TYPES,
    MILESTONE_FIELDS,
    AlreadyRecorded,
    CorruptStream,
    InvalidMilestone,
    InvalidReason,
    MalformedPayload,
    Milestone,
    MilestoneRecorded,
    MilestoneRetracted,
    MilestoneRevised,
    MilestoneState,
    NotRecorded,
    Problem,
    Retracted,
    Source,
    UnknownEventType,
    WrongMilestone,
    event_from_stored,
    fold,
    record,
    retract,
    revise,
    stream_id,
)

SOURCE = Source(
    title="Mongolia–United States relations (encyclopedia article)",
    quote="The United States and Mongolia established diplomatic relations on January 27, 1987.",
    file="000_389149d6423ab54b.txt",
)


def make(**changes) -> Milestone:
    base = Milestone(
        id="diplomatic-relations-established",
        title="The United States and Mongolia establish diplomatic relations",
        date=HistoricalDate.parse("1987-01-27"),
        summary="Relations were established in Washington.\nA second line.",
        tags=("diplomacy",),
        people=("Jack F. Matlock",),
        places=("Washington, D.C.",),
        sources=(SOURCE,),
        anniversary_of="diplomatic relations between the United States and Mongolia",
    )
    return dataclasses.replace(base, **changes)


def recorded(milestone: Milestone | None = None) -> MilestoneState:
    return fold(record(MilestoneState.initial(), milestone or make()))


# -- payloads -------------------------------------------------------------------------


def test_payload_shape_is_json_safe_and_ordered():
    payload = make(notes="Kept as written.").to_payload()
    # translations only when there are any: older payloads keep their shape (no upcaster)
    assert tuple(payload) == tuple(f for f in MILESTONE_FIELDS if f != "translations")
    assert payload["date"] == {
        "date": "1987-01-27",
        "end": None,
        "precision": "day",
        "circa": False,
    }
    assert payload["sources"] == [
        {"title": SOURCE.title, "quote": SOURCE.quote, "url": None, "file": SOURCE.file}
    ]
    assert json.loads(json.dumps(payload)) == payload


def test_milestone_fields_are_the_dataclass_fields_in_order():
    assert MILESTONE_FIELDS == (
        "id",
        "title",
        "date",
        "date_caveat",
        "summary",
        "tags",
        "people",
        "places",
        "sources",
        "notes",
        "anniversary_of",
        "translations",
        "anniversary",
        "anniversary_posts",
    )


text = st.text(st.characters(codec="utf-8"), max_size=30)
dates = st.sampled_from(["1862", "c. 1899", "1988-04", "2019-07-30/2019-08-02", "2003-08/2004"])


@given(
    title=text,
    date=dates,
    summary=text,
    tags=st.lists(text, max_size=3),
    notes=st.none() | text,
    url=st.none() | text,
)
def test_payload_round_trips_through_json(title, date, summary, tags, notes, url):
    milestone = make(
        title=title,
        date=HistoricalDate.parse(date),
        summary=summary,
        tags=tuple(tags),
        notes=notes,
        sources=(SOURCE, Source(title="t", quote="q", url=url)),
    )
    payload = json.loads(json.dumps(milestone.to_payload()))
    assert Milestone.from_payload(payload) == milestone


def test_from_payload_defaults_optional_fields():
    milestone = Milestone.from_payload(
        {"id": "x", "title": "X", "date": {"date": "1862"}, "sources": [SOURCE.to_payload()]}
    )
    assert milestone == Milestone(
        id="x", title="X", date=HistoricalDate.parse("1862"), sources=(SOURCE,)
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"id": "x", "title": "X"}, "lacks date"),
        ({"id": "x", "title": "X", "date": {"date": "1862"}, "tilte": "y"}, "unknown.*tilte"),
        ({"id": "x", "title": "X", "date": {"date": "1987-02-30"}}, "no day 30"),
        (
            {"id": "x", "title": "X", "date": {"date": "1862"}, "tags": "diplomacy"},
            "must be a list",
        ),
        ({"id": "x", "title": "X", "date": {"date": "1862"}, "sources": [{"title": "t"}]}, "quote"),
        (["id"], "must be an object"),
    ],
)
def test_from_payload_refuses_malformed_payloads(payload, message):
    with pytest.raises(MalformedPayload, match=message):
        Milestone.from_payload(payload)


def test_lists_become_tuples():
    milestone = make(tags=["diplomacy", "visits"], sources=[SOURCE])
    assert milestone.tags == ("diplomacy", "visits")
    assert milestone.sources == (SOURCE,)
    assert hash(milestone) == hash(make(tags=("diplomacy", "visits")))


# -- diff -----------------------------------------------------------------------------


def test_diff_lists_only_changed_fields_as_payload_values():
    old = make()
    new = make(title="New title", date=HistoricalDate.parse("c. 1987-01"), tags=("diplomacy",))
    assert old.diff(new) == {
        "title": (old.title, "New title"),
        "date": (old.date.to_json(), HistoricalDate.parse("c. 1987-01").to_json()),
    }
    assert old.diff(old) == {}


# -- events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        MilestoneRecorded(milestone=make()),
        MilestoneRevised(milestone_id="x", changes={"title": "T", "tags": ["a"]}, reason="typo"),
        MilestoneRetracted(milestone_id="x", reason="no source supports it"),
    ],
)
def test_events_round_trip_through_stored_rows(event):
    stored = json.loads(json.dumps(event.to_payload()))
    assert event_from_stored(event.type, stored, schema_version=event.schema_version) == event
    assert EVENT_TYPES[event.type] is type(event)


def test_recorded_payload_is_the_milestone_payload():
    assert MilestoneRecorded(milestone=make()).to_payload() == make().to_payload()
    assert MilestoneRecorded(milestone=make()).milestone_id == make().id


def test_event_from_stored_refusals():
    with pytest.raises(UnknownEventType, match="'MilestoneDeleted'"):
        event_from_stored("MilestoneDeleted", {})
    with pytest.raises(MalformedPayload, match="schema version 2"):
        event_from_stored(
            "MilestoneRetracted", {"milestone_id": "x", "reason": "r"}, schema_version=2
        )
    with pytest.raises(MalformedPayload, match="lacks 'reason'"):
        event_from_stored("MilestoneRetracted", {"milestone_id": "x"})
    with pytest.raises(MalformedPayload, match="cannot change id"):
        event_from_stored(
            "MilestoneRevised", {"milestone_id": "x", "changes": {"id": "y"}, "reason": "r"}
        )
    with pytest.raises(MalformedPayload, match="no changes"):
        MilestoneRevised(milestone_id="x", changes={}, reason="r")


def test_revised_event_does_not_share_its_changes():
    changes = {"tags": ["a"]}
    event = MilestoneRevised(milestone_id="x", changes=changes, reason="r")
    changes["tags"].append("b")
    event.to_payload()["changes"]["tags"].append("c")
    assert event.changes == {"tags": ["a"]}


def test_stream_id():
    assert (
        stream_id("diplomatic-relations-established")
        == "milestone-diplomatic-relations-established"
    )


# -- fold -----------------------------------------------------------------------------


def test_fold_of_nothing_is_the_initial_state():
    assert fold([]) == MilestoneState.initial() == MilestoneState(None, None, 0)


def test_fold_applies_record_revise_retract():
    original = make()
    better = make(summary="Better summary.", date=HistoricalDate.parse("1987-01"))
    events = [
        *record(MilestoneState.initial(), original),
        MilestoneRevised(
            milestone_id=original.id,
            changes={"summary": "Better summary.", "date": better.date.to_json()},
            reason="a better source",
        ),
        MilestoneRetracted(milestone_id=original.id, reason="duplicate"),
    ]
    assert fold(events[:1]) == MilestoneState(original, None, 1)
    assert fold(events[:2]) == MilestoneState(better, None, 2)
    assert fold(events) == MilestoneState(better, "duplicate", 3)
    assert fold(events[1:], fold(events[:1])) == fold(events)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([MilestoneRetracted(milestone_id="x", reason="r")], "before it was recorded"),
        (
            [MilestoneRecorded(milestone=make()), MilestoneRecorded(milestone=make())],
            "recorded twice",
        ),
        (
            [
                MilestoneRecorded(milestone=make()),
                MilestoneRevised(milestone_id="other", changes={"title": "T"}, reason="r"),
            ],
            "in the stream of",
        ),
    ],
)
def test_fold_refuses_impossible_streams(events, message):
    with pytest.raises(CorruptStream, match=message):
        fold(events)


# -- commands -------------------------------------------------------------------------


def test_record():
    milestone = make()
    assert record(MilestoneState.initial(), milestone) == [MilestoneRecorded(milestone=milestone)]


def test_record_refuses_a_recorded_milestone_even_retracted():
    state = recorded()
    with pytest.raises(AlreadyRecorded, match=r"already recorded$"):
        record(state, make())
    state = fold(retract(state, "duplicate"), state)
    with pytest.raises(AlreadyRecorded, match=r"already recorded \(and retracted\)"):
        record(state, make())


def test_record_refuses_an_invalid_milestone_listing_every_problem():
    bad = make(title=" ", sources=())
    with pytest.raises(InvalidMilestone) as error:
        record(MilestoneState.initial(), bad)
    assert error.value.problems == [
        Problem("title", "must not be blank"),
        Problem("sources", "at least one source is required"),
    ]
    assert "title: must not be blank" in str(error.value)


def test_revise_emits_only_changed_fields():
    state = recorded()
    new = make(title="Diplomatic relations established", tags=("diplomacy", "agreements"))
    events = revise(state, new, "clearer title")
    assert events == [
        MilestoneRevised(
            milestone_id=new.id,
            changes={"title": new.title, "tags": ["diplomacy", "agreements"]},
            reason="clearer title",
        )
    ]
    assert fold(events, state).milestone == new


def test_revise_with_nothing_changed_emits_nothing():
    assert revise(recorded(), make(), "") == []


def test_revise_refusals():
    with pytest.raises(NotRecorded, match="cannot revise milestone 'diplomatic-relations-"):
        revise(MilestoneState.initial(), make(), "r")
    state = recorded()
    with pytest.raises(WrongMilestone, match="ids never change"):
        revise(state, make(id="another-id"), "r")
    with pytest.raises(InvalidMilestone, match="sources"):
        revise(state, make(sources=()), "r")
    with pytest.raises(InvalidReason, match="reason: must not be blank"):
        revise(state, make(title="New"), "  ")
    retracted = fold(retract(state, "wrong"), state)
    with pytest.raises(Retracted, match=r"it was retracted \(wrong\)"):
        revise(retracted, make(title="New"), "r")


def test_retract():
    state = recorded()
    assert retract(state, "no source") == [
        MilestoneRetracted(milestone_id=make().id, reason="no source")
    ]


def test_retract_refusals():
    with pytest.raises(NotRecorded, match="cannot retract milestone: it is not recorded"):
        retract(MilestoneState.initial(), "r")
    state = recorded()
    with pytest.raises(InvalidReason, match="must not be blank"):
        retract(state, "\n\t ")
    with pytest.raises(InvalidReason, match="control character"):
        retract(state, "bad\x00reason")
    retracted = fold(retract(state, "r"), state)
    with pytest.raises(Retracted, match="cannot retract"):
        retract(retracted, "again")


# -- validation -----------------------------------------------------------------------


def test_a_sound_milestone_has_no_problems():
    assert make().validate() == []
    assert (
        make(sources=(Source(title="t", quote="q", url="https://example.org/a"),)).validate() == []
    )


def test_validate_lists_every_problem_in_field_order():
    bad = make(
        id="Not A Slug",
        title="x" * 201,
        summary=17,
        tags=("diplomacy", "Visits", "diplomacy"),
        people=("",),
        places="Ulaanbaatar",
        sources=(
            Source(title="", quote="", url="ftp://example.org"),
            Source(title="t", quote="q"),
            "a source",
        ),
        notes="\x1b[31m",
        anniversary_of="  ",
    )
    problems = bad.validate()
    assert [p.field for p in problems] == [
        "id",
        "title",
        "summary",
        "tags[1]",
        "tags",
        "people[0]",
        "places",
        "sources[0].title",
        "sources[0].quote",
        "sources[0].url",
        "sources[1]",
        "sources[2]",
        "notes",
        "anniversary_of",
    ]
    messages = dict(reversed(problems))  # first message per field
    assert "is not a slug" in messages["id"]
    assert messages["title"] == "is 201 characters long; at most 200"
    assert messages["summary"] == "must be text, not int"
    assert messages["tags"] == "'diplomacy' is listed twice"
    assert messages["places"] == "must be a list, not str"
    assert messages["sources[1]"] == "needs a url or a file"
    assert messages["sources[2]"] == "must be a source, not str"
    assert messages["notes"] == "contains a control character (U+001B at position 0)"


def test_long_ids_and_non_dates_are_problems():
    problems = make(id="a" * 81, date="1987-01-27").validate()
    assert problems == [
        Problem("id", "is 81 characters long; at most 80"),
        Problem("date", "must be a HistoricalDate"),
    ]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x7f", "\x85", "\t", "\n", "\r"])
@pytest.mark.parametrize("field", ["id", "title", "tags"])
def test_no_control_characters_in_single_line_fields(field, char):
    value = f"peace{char}corps"
    milestone = make(**{field: (value,) if field == "tags" else value})
    fields = [p.field for p in milestone.validate()]
    assert fields == (["tags[0]"] if field == "tags" else [field])


@pytest.mark.parametrize("field", ["summary", "notes"])
def test_newlines_and_tabs_allowed_in_summary_and_notes_but_no_other_controls(field):
    assert make(**{field: "line one\n\tline two"}).validate() == []
    assert make(**{field: "bell\x07"}).validate() == [
        Problem(field, "contains a control character (U+0007 at position 4)")
    ]


def test_title_must_be_a_single_line():
    assert make(title="one\ntwo").validate() == [
        Problem("title", "must be a single line (line break U+000A at position 3)")
    ]
    assert make(title="one\u2028two").validate()[0].message.startswith("must be a single line")


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\ud800", "lone surrogate"),
        ("\udfff", "lone surrogate"),
        ("\ufffe", "noncharacter"),
        ("\ufdd0", "noncharacter"),
        ("\U0001ffff", "noncharacter"),
    ],
)
@pytest.mark.parametrize("field", ["title", "summary", "notes", "anniversary_of"])
def test_lone_surrogates_and_noncharacters_rejected_everywhere(field, char, kind):
    assert make(**{field: f"ab{char}"}).validate() == [
        Problem(field, f"contains a {kind} (U+{ord(char):04X} at position 2)")
    ]


def test_surrogates_rejected_in_sources_and_people():
    milestone = make(
        people=("\ud83d",),
        sources=(Source(title="t", quote="q\udc00", file="f\ufdef"),),
    )
    assert [p.field for p in milestone.validate()] == [
        "people[0]",
        "sources[0].quote",
        "sources[0].file",
    ]


def test_ordinary_unicode_is_fine():
    milestone = make(
        title="Улаанбаатар — Washington ✈ 🇲🇳",
        summary="Монгол Улс\u00a0and the United States",  # (zero-width spaces are refused)
        people=("Batbayar Ulziidelger",),
    )
    assert milestone.validate() == []
