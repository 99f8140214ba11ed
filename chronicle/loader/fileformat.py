"""The milestone file format of events/README.md as a pydantic model: field names, JSON Schema.

The validator takes its field lists, limits and tag vocabulary from here, and `chronicle schema`
prints this model's schema, so the two cannot drift apart. The model itself never validates
input: the validator does, because it must report every problem with its line.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

MAX_TITLE_LENGTH = 120
# Post texts must fit every channel whatever the milestone: X counts 280 (weighted: 2 for each
# character outside Latin and Cyrillic, 23 for the link), Bluesky 300 graphemes, Mastodon 500.
# The summary is dropped and the title cut after a word when a post is too long; what cannot be
# cut is the template's own words, the dates and the link (at most 116 of X's 280 in the
# longest default, the round one: "Today, September 30, we mark 1000 years of …, the 1000th
# anniversary of September 30, 1987: …. <link>"), `anniversary_of`, and the title's first word.
# X: 116 + 100 + 40 + 1 ("…") = 257 <= 280. Mastodon (links count 23, limit 500) has room to
# spare. Bluesky counts the link's own characters: 93 + 100 + 41 = 234 leaves 66 of its 300 for
# the link, which a base URL of up to ~25 characters and an id of up to ~30 always fit; a longer
# one still fits whenever the words are shorter than these worst cases.
MAX_ANNIVERSARY_OF_WEIGHT = 100
"""`anniversary_of` in X's weighted length: 100 Latin/Cyrillic characters, 50 wide ones."""
MAX_TITLE_WORD_WEIGHT = 40
"""A title is cut after a word: its longest word must fit where the whole title does not."""
MAX_ID_LENGTH = 80
MIN_TAGS, MAX_TAGS = 1, 3

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_POINT = r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
DATE_PATTERN = rf"^{_POINT}(?:/{_POINT})?$"
NOT_BLANK_PATTERN = r"\S"
TITLE_PATTERN = r"^[^\n\r]*[^.\s]$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
SCHEMA_ID = "https://chronicle.example.org/schemas/milestones.schema.json"

Tag = Literal[
    "diplomacy", "visits", "agreements", "embassies", "defense", "exercises", "peacekeeping",
    "development", "education", "culture", "migration", "trade", "economy", "early-contacts",
    "health", "governance",
]  # fmt: skip
TAGS: tuple[str, ...] = get_args(Tag)
Text = Annotated[str, Field(pattern=NOT_BLANK_PATTERN)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$")]
Names = Annotated[list[Text], Field(min_length=1, json_schema_extra={"uniqueItems": True})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceEntry(_Strict):
    """One source of a milestone: a document and a passage copied verbatim from it."""

    model_config = ConfigDict(title="Source", json_schema_extra={
        "anyOf": [{"required": ["file"]}, {"required": ["url"]}]})

    title: Text = Field(description="The document's title.")
    file: Text | SkipJsonSchema[None] = Field(
        None, description="File name of the source in the seeds folder (required for the seed "
        "documents), e.g. \"000_389149d6423ab54b.txt\".")
    url: Url | SkipJsonSchema[None] = Field(
        None, description="Only when the source document gives its address. Never guess one.")
    quote: Text = Field(description="A passage copied character for character from the source.")


class AnniversaryEntry(_Strict):
    """A milestone's own yearly post text: Jinja templates, the link is appended by the post."""

    model_config = ConfigDict(title="Anniversary text")

    text: Text = Field(description="Jinja template of the yearly post, e.g. \"Today, {{ date }}, "
                       "marks {{ years }} years since …\". Variables: years, ordinal, date, "
                       "full_date, year, title. No link: the post appends it.")
    round: Text | SkipJsonSchema[None] = Field(
        None, description="Template used instead in round years (5, 10, 15, …), e.g. \"On "
        "{{ date }} we mark the {{ ordinal }} anniversary of …\".")


class TranslationEntry(_Strict):
    """A milestone's text in another language; quotes stay in their source's language."""

    model_config = ConfigDict(title="Translation")

    title: str = Field(max_length=MAX_TITLE_LENGTH, pattern=TITLE_PATTERN,
                       description="The title in this language; one line, no trailing period.")
    summary: Text | SkipJsonSchema[None] = Field(
        None, description="The summary in this language: the same facts, nothing added.")
    notes: Text | SkipJsonSchema[None] = Field(None, description="The notes in this language.")
    anniversary: AnniversaryEntry | SkipJsonSchema[None] = Field(
        None, description="Yearly post texts; only on milestones that start on a day.")
    translator: Text = Field(description="Who translated it (a person, or an honest "
                             "description such as \"machine-assisted draft\").")
    reviewed: bool = Field(description="true once a second fluent reader has checked it.")


Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN)]


class MilestoneEntry(_Strict):
    """One milestone as an editor writes it."""

    model_config = ConfigDict(title="Milestone")

    id: str = Field(pattern=SLUG_PATTERN, max_length=MAX_ID_LENGTH,
                    description="Stable slug (a-z, 0-9, single hyphens), unique across all "
                    "files. Never change it once published.")
    title: str = Field(max_length=MAX_TITLE_LENGTH, pattern=TITLE_PATTERN,
                       description="One line, no trailing period.")
    date: str = Field(pattern=DATE_PATTERN,
                      description="Quoted: \"YYYY\", \"YYYY-MM\", \"YYYY-MM-DD\" or START/END "
                      "with the same precision on both ends; never more precise than the source.")
    circa: bool | SkipJsonSchema[None] = Field(
        None, description="true only when the source says about, around or circa the date.")
    date_caveat: Text | SkipJsonSchema[None] = Field(
        None, description="One line shown next to the date wherever it appears, when the date "
        "is the source's but known to be doubtful, e.g. \"source error: …\".")
    summary: Text = Field(description="One to three sentences in your own words.")
    anniversary_of: Text | SkipJsonSchema[None] = Field(
        None, description="Noun phrase for yearly posts; only on single-day milestones.")
    anniversary: AnniversaryEntry | SkipJsonSchema[None] = Field(
        None, description="The milestone's own yearly post text; only on day-precision "
        "milestones.")
    anniversary_posts: bool | SkipJsonSchema[None] = Field(
        None, description="false opts the milestone out of yearly posts (default: posted when "
        "its date is known to the day).")
    tags: list[Tag] = Field(min_length=MIN_TAGS, max_length=MAX_TAGS,
                            json_schema_extra={"uniqueItems": True},
                            description="One to three tags from the vocabulary.")
    people: Names | SkipJsonSchema[None] = Field(
        None, description="Full names as the source spells them, with a role when it helps.")
    places: Names | SkipJsonSchema[None] = Field(
        None, description="Places as the source names them.")
    sources: list[SourceEntry] = Field(min_length=1, description="At least one source.")
    notes: Text | SkipJsonSchema[None] = Field(
        None, description="Conflicts between sources, ambiguity, inferences.")
    reason: Text | SkipJsonSchema[None] = Field(
        None, description="Why the milestone was changed; becomes the revision's reason.")
    retracted: Text | SkipJsonSchema[None] = Field(
        None, description="Why the milestone is withdrawn; it stays in the log and the file.")
    moved_from: Text | SkipJsonSchema[None] = Field(
        None, description="The file the milestone was last loaded from, when it moved here on "
        "purpose (e.g. \"events/02-establishment.yaml\"); without it, an id already defined "
        "in another file is refused.")
    translations: dict[Language, TranslationEntry] | SkipJsonSchema[None] = Field(
        None, json_schema_extra={"additionalProperties": False},
        description="The milestone's text in other languages, by language code ('mn').")


class MilestonesFile(_Strict):
    """A milestone file: one top-level key holding the list."""

    model_config = ConfigDict(title="Chronicle milestone file")

    milestones: list[MilestoneEntry] = Field(description="The milestones of this file.")


def _keys(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def _required(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items() if info.is_required())


FILE_KEYS = _keys(MilestonesFile)
MILESTONE_KEYS = _keys(MilestoneEntry)
MILESTONE_REQUIRED = _required(MilestoneEntry)
SOURCE_KEYS = _keys(SourceEntry)
ANNIVERSARY_KEYS = _keys(AnniversaryEntry)
ANNIVERSARY_REQUIRED = _required(AnniversaryEntry)
SOURCE_REQUIRED = _required(SourceEntry)
TRANSLATION_KEYS = _keys(TranslationEntry)
TRANSLATION_REQUIRED = _required(TranslationEntry)
ANNIVERSARY_KEYS = _keys(AnniversaryEntry)
ANNIVERSARY_REQUIRED = _required(AnniversaryEntry)
TEXT_LIST_KEYS = ("tags", "people", "places")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a milestone file.

    Optional fields are simply not required: a "default": null would invite editors to
    complete them as null, which the file format refuses.
    """
    schema = MilestonesFile.model_json_schema()
    for definition in schema["$defs"].values():
        for prop in definition["properties"].values():
            if "default" in prop and prop["default"] is None:
                del prop["default"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
