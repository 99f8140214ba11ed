"""Milestones and published posts as feed items: titles, HTML content, permanent ids.

Items are built in one language (`UiText`): English as it always was; another language from
the milestone's translation (chronicle.localized), with the interface words from its
catalogue and any text still in English wrapped in `lang="en"`. Quotes stay in their
source's language. A language's entry ids carry its code ("mn/milestone/<id>"), so they are
distinct from the English ones and as permanent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import quote

from chronicle.config import FeedSettings
from chronicle.dates import HistoricalDate
from chronicle.datewords import full_date_words
from chronicle.domain import Milestone, Source
from chronicle.feeds.model import Item, Retraction
from chronicle.feeds.text import escape, is_web_url, paragraphs, xml_safe
from chronicle.localized import LocalizedMilestone, localize
from chronicle.projections import MilestoneView, PublishedPostView, RetractedView
from chronicle.projections.milestone_rows import sort_key
from chronicle.quotes import readable_quote
from chronicle.uitext import SOURCE_LANGUAGE, UiText, ui_text

POST_TITLE_LENGTH = 100


def utc(moment: dt.datetime) -> dt.datetime:
    """Every backend's datetimes rendered the same way (PostgreSQL may answer in its zone)."""
    return moment.astimezone(dt.UTC)


def tag_uri(feed: FeedSettings, specific: str, language: str = SOURCE_LANGUAGE) -> str:
    """A permanent RFC 4151 id: never a row number, so rebuilds and reloads keep it; another
    language's ids carry its code."""
    if language != SOURCE_LANGUAGE:
        specific = f"{language}/{specific}"
    return f"tag:{feed.tag_authority}:{specific}"


def milestone_url(feed: FeedSettings, milestone_id: str) -> str:
    return f"{feed.base_url}/milestones/{quote(milestone_id, safe='')}"


def tag_url(feed: FeedSettings, tag: str) -> str:
    return f"{feed.base_url}/tags/{quote(tag, safe='')}"


def milestone_title(milestone: Milestone) -> str:
    """"27 January 1987: The United States and Mongolia establish …": date first, in words."""
    return xml_safe(f"{milestone.date_words()}: {milestone.title}")


def _source_html(source: Source) -> str:
    title = escape(source.title)
    if is_web_url(source.url):
        title = f'<a href="{escape(source.url or "")}">{title}</a>'
    return f"<li>{title}<blockquote>{paragraphs(readable_quote(source.quote))}</blockquote></li>"


def _list_line(label: str, values: tuple[str, ...], lang: str = "") -> str:
    if not values:
        return ""
    joined = escape("; ".join(values))
    return f"<p><strong>{label}:</strong> {f'<span{lang}>{joined}</span>' if lang else joined}</p>"


def _in_english(html: str, english: bool) -> str:
    """`html` inside an element marked English, when the reader's language is another."""
    return f'<div lang="en">{html}</div>' if english and html else html


def milestone_html(milestone: Milestone, page_url: str,
                   local: LocalizedMilestone | None = None) -> str:
    """The entry's content: date, summary, people and places, sources with quotes, notes, page;
    in `local`'s language when given (names and quotes stay as the sources have them)."""
    if local is None or local.language == SOURCE_LANGUAGE:
        local = None
    _ = ui_text(local.language if local else SOURCE_LANGUAGE).gettext
    lang = ' lang="en"' if local else ""
    fallbacks = local.fallbacks if local else ()
    summary = local.summary if local else milestone.summary
    notes = local.notes if local else milestone.notes
    parts = [f"<p><strong>{escape(local.date_words if local else milestone.date_words())}"
             "</strong></p>",
             _in_english(paragraphs(summary), "summary" in fallbacks),
             _list_line(_("People"), milestone.people, lang),
             _list_line(_("Places"), milestone.places, lang)]
    if milestone.sources:
        sources = "".join(_source_html(s) for s in milestone.sources)
        parts.append(f"<p><strong>{_('Sources')}:</strong></p><ul{lang}>{sources}</ul>")
    if notes:
        parts.append(f"<p><strong>{_('Notes')}:</strong></p>"
                     + _in_english(paragraphs(notes), "notes" in fallbacks))
    page = _("<a href=\"%(page)s\">The milestone's page</a>", page=escape(page_url))
    parts.append(f"<p>{page}</p>")
    return "".join(part for part in parts if part)


def milestone_item(view: MilestoneView, feed: FeedSettings,
                   language: str = SOURCE_LANGUAGE) -> Item:
    """A milestone as an entry of `language`'s feeds (`feed.base_url` is that language's)."""
    milestone = view.milestone
    page = milestone_url(feed, milestone.id)
    local = None if language == SOURCE_LANGUAGE else localize(milestone, language)
    return Item(
        id=tag_uri(feed, f"milestone/{milestone.id}", language),
        title=(milestone_title(milestone) if local is None
               else xml_safe(f"{local.date_words}: {local.title}")),
        url=page,
        published=utc(view.recorded_at),
        updated=utc(view.updated_at),
        summary=xml_safe(milestone.summary if local is None else local.summary),
        content_html=milestone_html(milestone, page, local),
        tags=tuple(xml_safe(tag) for tag in milestone.tags),
        historical_key=sort_key(milestone.date),
        recorded_order=view.recorded_position,
    )


def retracted_item(view: RetractedView, feed: FeedSettings,
                   language: str = SOURCE_LANGUAGE) -> Item:
    """A withdrawn milestone as an update of its entry: a reader sees it is retracted, and why
    (the title and reason as they were recorded, in English)."""
    assert view.recorded_at is not None, "rm_retracted keeps the recorded time (version 2)"
    _ = ui_text(language).gettext
    english = language == SOURCE_LANGUAGE
    page = milestone_url(feed, view.id)
    when = utc(view.retracted_at)
    day = (HistoricalDate.from_date(when.date()).words() if english
           else full_date_words(when.date(), language))
    reason = xml_safe(view.reason)
    shown = escape(reason) if english else f'<span lang="en">{escape(reason)}</span>'
    return Item(
        id=tag_uri(feed, f"milestone/{view.id}", language),
        title=xml_safe(_("Retracted: %(title)s", title=view.title)),
        url=page,
        published=utc(view.recorded_at),
        updated=when,
        summary=_("Retracted on %(day)s: %(reason)s", day=day, reason=reason),
        content_html=(_("<p><strong>This milestone was retracted on %(day)s.</strong></p>",
                        day=escape(day))
                      + _("<p>Reason: %(reason)s</p>", reason=shown)
                      + _("<p><a href=\"%(page)s\">The milestone's page</a> keeps its "
                          "history.</p>", page=escape(page))),
        recorded_order=view.recorded_position or 0,
        retraction=Retraction(when, reason),
    )


def post_language(post: PublishedPostView) -> str:
    """The language a post was written in: its key's fourth part ("<id>/<year>/<channel>/mn")."""
    parts = post.key.split("/")
    return parts[3] if len(parts) > 3 else SOURCE_LANGUAGE


def _post_title(post: PublishedPostView, language: str) -> str:
    first_line = xml_safe(post.text).strip().split("\n", 1)[0].strip()
    if len(first_line) > POST_TITLE_LENGTH:
        first_line = first_line[: POST_TITLE_LENGTH - 1].rstrip() + "…"
    day = (HistoricalDate.from_date(post.local_date).words()  # not strftime: no locale
           if language == SOURCE_LANGUAGE else full_date_words(post.local_date, language))
    return f"{day}: {first_line}" if first_line else day


def post_item(post: PublishedPostView, feed: FeedSettings, titles: Mapping[str, str],
              text: UiText | None = None) -> Item:
    """An "on this day" post that went out; it links the milestones it marks (in `text`'s
    language: its pages, its titles, its words)."""
    language = text.language if text else SOURCE_LANGUAGE
    pages = [(milestone_url(feed, mid), titles.get(mid, mid)) for mid in post.milestone_ids]
    links = "".join(f'<li><a href="{escape(url)}">{escape(title)}</a></li>'
                    for url, title in pages)
    html = paragraphs(post.text) + (f"<ul>{links}</ul>" if links else "")
    external = post.remote_url if is_web_url(post.remote_url) else None
    if external:
        label = (text or ui_text(language)).gettext("Posted on %(channel)s",
                                                     channel=escape(post.channel))
        html += f'<p><a href="{escape(external)}">{label}</a></p>'
    published = utc(post.published_at)
    return Item(
        id=tag_uri(feed, f"post/{post.key}"),  # the key names its language already
        title=_post_title(post, language),
        url=pages[0][0] if pages else f"{feed.base_url}/",
        published=published,
        updated=published,
        summary=xml_safe(post.text),
        content_html=html,
        tags=(xml_safe(post.channel),),
        external_url=external,
    )
