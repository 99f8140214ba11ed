"""Settings: read once at the edge from `config/chronicle.toml`, overridden by the environment.

Every setting is declared here once, with its default and its help text; secrets (X
credentials) are read from the environment only and never appear in this model.
Environment variables: `CHRONICLE_DATABASE_URL`, and nested keys with `__`, e.g.
`CHRONICLE_POSTING__TIMEZONE=America/New_York`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG = Path("config/chronicle.toml")
CONFIG_ENV = "CHRONICLE_CONFIG"
ENV_PREFIX = "CHRONICLE_"


class ConfigError(Exception):
    """The configuration is invalid; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def known_languages(values: list[str]) -> list[str]:
    """`values` when each is a language the chronicle can speak, named once."""
    from chronicle.localized import UnknownLanguage, check_language

    if not values:
        raise ValueError("name at least one language, such as [\"en\"]")
    if len(set(values)) != len(values):
        raise ValueError(f"a language is named twice: {values}")
    for value in values:
        try:
            check_language(value)
        except UnknownLanguage as exc:
            raise ValueError(str(exc)) from None
    return values


class FeedSettings(_Section):
    title: str = Field("Mongolia–United States: a chronicle", description="Feed title.")
    subtitle: str = Field("Milestones of the relations between Mongolia and the United States",
                          description="Feed subtitle / description.")
    author_name: str = Field("Chronicle", description="Feed author.")
    author_email: str | None = Field(None, description="Feed author's e-mail (optional).")
    base_url: str = Field("http://127.0.0.1:8000",
                          description="Public URL of the site and feeds (no trailing /); "
                          "unset, `serve` uses the address it listens on and `export` the "
                          "[server] address.")
    tag_authority: str = Field("chronicle.example.org,2026",
                               description="Authority of the permanent tag: URIs of entries "
                               "(RFC 4151 'domain,year'); never change it once published.")
    language: str = Field("en", description="Language of the feeds (BCP 47).")
    languages: list[str] = Field(["en", "mn"], description="Languages the site publishes: "
                                 "English pages and feeds at the root, every other language's "
                                 "under /<code>/ (the milestones' translations, English where "
                                 "one is missing).")
    icon: str | None = Field(None, description="URL of a small square icon.")
    logo: str | None = Field(None, description="URL of a larger logo.")
    rights: str | None = Field(None, description="Copyright / licence statement.")
    main_size: int = Field(50, ge=1, le=1000, description="Entries in the main feed.")
    archive_size: int = Field(50, ge=1, le=1000,
                              description="Entries per RFC 5005 archive page (fixed once chosen).")
    home_size: int = Field(500, ge=1, description="Milestones on the home page's timeline: "
                           "the most recent; above it the page says how many it leaves to "
                           "the year pages, so it stays readable (and quick to refresh).")
    listing_size: int = Field(500, ge=1, description="Milestones on a tag's page, passages "
                              "on a source's page: above it the page becomes an index by year "
                              "linking a page per year (/tags/TAG/YEAR/, /sources/SLUG/YEAR/), "
                              "so it stays readable (and quick to refresh).")
    hub_url: str | None = Field(None, description="WebSub hub to ping when a feed changes.")
    retraction_days: int = Field(30, ge=0, le=3650, description="Days a retracted milestone "
                                 "stays in the main feeds as a retracted update, counted to the "
                                 "chronicle's newest change.")

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("languages")
    @classmethod
    def _site_languages(cls, values: list[str]) -> list[str]:
        if "en" not in values:
            raise ValueError("English is the milestones' own text: include \"en\", "
                             "such as [\"en\", \"mn\"]")
        return ["en", *(value for value in known_languages(values) if value != "en")]


class PostingSettings(_Section):
    timezone: str = Field("Asia/Ulaanbaatar", description="IANA time zone of the posting time.")
    time: dt.time = Field(dt.time(9, 0), description="Local time of day the posts go out (HH:MM).")
    grace_hours: float = Field(6.0, ge=0, le=24,
                               description="After downtime, posts due earlier today are still "
                               "sent within this many hours; later they are recorded as skipped.")
    channels: list[Literal["x", "outbox", "mastodon", "bluesky"]] | None = Field(
        None, description="Channels to post to; default: outbox, plus x, mastodon and bluesky "
        "each when its settings and credentials are set.")
    outbox_path: Path = Field(Path("feeds/outbox.jsonl"), description="JSON-lines outbox file.")
    digest: bool = Field(False, description="Several anniversaries on one day: one digest post "
                         "instead of one post each.")
    feb29_rule: Literal["feb28", "mar1", "skip"] = Field(
        "feb28", description="Where a 29 February anniversary goes in common years.")
    round_every: list[int] = Field([5, 10], description="A year count divisible by one of these "
                                   "uses the round template.")
    template_regular: str | None = Field(None, description="Jinja2 template of a regular post.")
    template_round: str | None = Field(None, description="Jinja2 template of a round anniversary.")
    template_digest: str | None = Field(None, description="Jinja2 template of a digest post.")
    require_approval: bool = Field(False, description="Publish only texts an editor approved "
                                   "(`chronicle approve`); an unapproved post is held at its time.")
    languages: list[str] = Field(["en"], description="Languages to post in: a post per "
                                 "milestone, year, channel and language, from the milestone's "
                                 "translation (none: that post is skipped). An unreviewed "
                                 "translation is held until an editor approves its text.")
    draft_days: int = Field(14, ge=0, le=366, description="Days before a post is due that its "
                            "text for each channel is recorded as a draft for review.")
    x_api_base_url: str | None = Field(None, description="Send X API calls to this base URL "
                                       "instead of X (tests, egress proxies).")
    x_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of each X API request.")
    images: bool = Field(True, description="Attach a card image (PNG, with alt text) to each "
                         "anniversary post on Mastodon and Bluesky.")
    mastodon_base_url: str | None = Field(None, description="The Mastodon instance to post to, "
                                          "e.g. https://mastodon.social (token: "
                                          "CHRONICLE_MASTODON_ACCESS_TOKEN).")
    mastodon_visibility: Literal["public", "unlisted", "private", "direct"] = Field(
        "public", description="Visibility of Mastodon posts.")
    mastodon_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of each Mastodon "
                                            "request.")
    bluesky_pds_url: str = Field("https://bsky.social", description="The Bluesky PDS to log in "
                                 "at (credentials: CHRONICLE_BLUESKY_HANDLE, "
                                 "CHRONICLE_BLUESKY_APP_PASSWORD).")
    bluesky_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of each Bluesky "
                                           "request.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "Asia/Ulaanbaatar)") from exc
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, values: list[str]) -> list[str]:
        return known_languages(values)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `chronicle serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `chronicle serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Server worker processes.")
    scheduler: bool = Field(True, description="Run the anniversary scheduler inside `serve`.")
    load_on_start: bool = Field(True, description="Load the configured sources when `serve` "
                                "starts and they changed.")
    poll_seconds: float = Field(1.0, gt=0, description="How often a server checks the log for "
                                "new events (PostgreSQL is also notified at once).")
    metrics_allow: list[str] = Field(default=[], description="Networks (CIDR, such as "
                                     "\"127.0.0.1/32\") allowed to read /metrics; empty: "
                                     "everyone. Behind a proxy the peer is the proxy.")

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a network (CIDR such as 127.0.0.1/32)"
                                 ) from exc
        return values


class Settings(BaseSettings):
    """All of Chronicle's settings. Paths are relative to `base_dir`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    base_dir: Path = Field(Path("."), description="Directory relative paths start from; in the "
                           "config file it is relative to the file's folder.")
    database_url: str = Field("sqlite:///chronicle.db", description="SQLAlchemy URL of the log: "
                              "sqlite:///FILE (default) or postgresql://USER@HOST/DB.")
    sources: list[str] = Field(["events/*.yaml"], description="Milestone files (glob patterns).")
    seeds_dir: Path = Field(default=Path("../shared/seeds"), description="The source "
                            "documents a milestone's sources[].file names; when the folder is "
                            "present the loader checks that each quote appears in its file, "
                            "and source pages list the passages in the document's order.")
    export_dir: Path = Field(Path("feeds"), description="Where `chronicle export` writes files.")
    feed: FeedSettings = Field(default_factory=FeedSettings)
    posting: PostingSettings = Field(default_factory=PostingSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    toml_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, cls.toml_file))
        return tuple(sources)

    def path(self, value: Path | str) -> Path:
        """A configured path made absolute against `base_dir`."""
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (self.base_dir / candidate).resolve()

    @property
    def resolved_database_url(self) -> str:
        """SQLite file paths resolved against `base_dir`, so the service runs from any directory."""
        url = self.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix):]))
        return url  # a URL without a scheme is refused where it is opened (store/engine.py)


WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def served_at(settings: Settings, host: str, port: int) -> Settings:
    """The settings with `feed.base_url`, when not configured, set to the address served
    (http://HOST:PORT; a wildcard address becomes loopback), so every absolute link matches it."""
    if "base_url" in settings.feed.model_fields_set:
        return settings
    host = WILDCARDS.get(host, host)
    authority = f"[{host}]" if ":" in host else host
    feed = settings.feed.model_copy(update={"base_url": f"http://{authority}:{port}"})
    return settings.model_copy(update={"feed": feed})


def _env_names(loc: tuple[str | int, ...]) -> list[str]:
    """The environment variables that set the key at `loc` or a key inside it."""
    name = (ENV_PREFIX + "__".join(str(part) for part in loc)).upper()
    return sorted(k for k in os.environ if k.upper() == name or k.upper().startswith(name + "__"))


def _origin(loc: tuple[str | int, ...], file_origin: str, overrides: Mapping[str, Any]) -> str:
    """Where a bad value came from, in the order settings win: option, environment, file."""
    if loc and loc[0] in overrides:
        return f"--{str(loc[0]).replace('_', '-')}"
    for end in range(len(loc), 0, -1):  # the innermost variable: a list item is in its key's
        exact = [n for n in _env_names(loc[:end]) if n.upper().count("__") == end - 1]
        if exact:
            return f"environment variable {exact[0]}"
    return file_origin


def _format_errors(error: ValidationError, origin: str, overrides: Mapping[str, Any]) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{_origin(item['loc'], origin, overrides)}: {key}: {message}")
    return "\n".join(lines)


def _unparsable_env(error: SettingsError, origin: str) -> str:
    """pydantic-settings could not parse a variable as JSON (lists and tables need JSON)."""
    field = re.search(r'field "([^"]+)" from source "EnvSettingsSource"', str(error))
    if field is None:
        return f"{origin}: {error}"
    names = _env_names((field.group(1),))
    bad = [name for name in names if not _is_json(os.environ[name])] or names
    return (f"environment variable {', '.join(bad)}: not valid JSON (lists and tables are set "
            "as JSON, e.g. CHRONICLE_POSTING__ROUND_EVERY='[5, 10]')")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Read the config file (explicit, $CHRONICLE_CONFIG, or ./config/chronicle.toml if present)."""
    explicit = config_path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    path = explicit or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if explicit is not None and not explicit.is_file():
        raise ConfigError(f"{explicit}: configuration file not found")
    origin = str(path) if path else "settings"
    base = path.resolve().parent if path else Path.cwd()

    class _FileSettings(Settings):
        toml_file = path

    try:
        settings = _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin, overrides)) from None
    except SettingsError as exc:
        raise ConfigError(_unparsable_env(exc, origin)) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(f"{origin}: {exc}") from None
    base_dir = settings.base_dir if settings.base_dir.is_absolute() else (
        base / settings.base_dir).resolve()
    # Only what was set: a default stays a default (`feed.base_url` unset lets `serve` choose).
    return Settings.model_validate({**settings.model_dump(exclude_unset=True),
                                    "base_dir": base_dir})
