"""Milestones and published posts as feed items: titles, HTML content, permanent ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import quote

from chronicle.config import FeedSettings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source
from chronicle.feeds.model import Item, Retraction
from chronicle.feeds.text import escape, is_web_url, paragraphs, xml_safe
from chronicle.projections import MilestoneView, PublishedPostView, RetractedView
from chronicle.projections.milestone_rows import sort_key
from chronicle.quotes import readable_quote

POST_TITLE_LENGTH = 100


def utc(moment: dt.datetime) -> dt.datetime:
    """Every backend's datetimes rendered the same way (PostgreSQL may answer in its zone)."""
    return moment.astimezone(dt.UTC)


def tag_uri(feed: FeedSettings, specific: str) -> str:
    """A permanent RFC 4151 id: never a row number, so rebuilds and reloads keep it."""
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


def _list_line(label: str, values: tuple[str, ...]) -> str:
    return f"<p><strong>{label}:</strong> {escape('; '.join(values))}</p>" if values else ""


def milestone_html(milestone: Milestone, page_url: str) -> str:
    """The entry's content: date, summary, people and places, sources with quotes, notes, page."""
    parts = [f"<p><strong>{escape(milestone.date_words())}</strong></p>",
             paragraphs(milestone.summary),
             _list_line("People", milestone.people),
             _list_line("Places", milestone.places)]
    if milestone.sources:
        parts.append("<p><strong>Sources:</strong></p><ul>"
                     + "".join(_source_html(s) for s in milestone.sources) + "</ul>")
    if milestone.notes:
        parts.append(f"<p><strong>Notes:</strong></p>{paragraphs(milestone.notes)}")
    parts.append(f'<p><a href="{escape(page_url)}">The milestone\'s page</a></p>')
    return "".join(part for part in parts if part)


def milestone_item(view: MilestoneView, feed: FeedSettings) -> Item:
    milestone = view.milestone
    page = milestone_url(feed, milestone.id)
    return Item(
        id=tag_uri(feed, f"milestone/{milestone.id}"),
        title=milestone_title(milestone),
        url=page,
        published=utc(view.recorded_at),
        updated=utc(view.updated_at),
        summary=xml_safe(milestone.summary),
        content_html=milestone_html(milestone, page),
        tags=tuple(xml_safe(tag) for tag in milestone.tags),
        historical_key=sort_key(milestone.date),
        recorded_order=view.recorded_position,
    )


def retracted_item(view: RetractedView, feed: FeedSettings) -> Item:
    """A withdrawn milestone as an update of its entry: a reader sees it is retracted, and why."""
    assert view.recorded_at is not None, "rm_retracted keeps the recorded time (version 2)"
    page = milestone_url(feed, view.id)
    when = utc(view.retracted_at)
    day = HistoricalDate.from_date(when.date()).words()
    reason = xml_safe(view.reason)
    return Item(
        id=tag_uri(feed, f"milestone/{view.id}"),
        title=xml_safe(f"Retracted: {view.title}"),
        url=page,
        published=utc(view.recorded_at),
        updated=when,
        summary=f"Retracted on {day}: {reason}",
        content_html=(f"<p><strong>This milestone was retracted on {escape(day)}.</strong></p>"
                      f"<p>Reason: {escape(reason)}</p>"
                      f'<p><a href="{escape(page)}">The milestone\'s page</a> keeps its '
                      "history.</p>"),
        recorded_order=view.recorded_position or 0,
        retraction=Retraction(when, reason),
    )


def _post_title(post: PublishedPostView) -> str:
    first_line = xml_safe(post.text).strip().split("\n", 1)[0].strip()
    if len(first_line) > POST_TITLE_LENGTH:
        first_line = first_line[: POST_TITLE_LENGTH - 1].rstrip() + "…"
    day = HistoricalDate.from_date(post.local_date).words()  # not strftime: no locale
    return f"{day}: {first_line}" if first_line else day


def post_item(post: PublishedPostView, feed: FeedSettings, titles: Mapping[str, str]) -> Item:
    """An "on this day" post that went out; it links the milestones it marks."""
    pages = [(milestone_url(feed, mid), titles.get(mid, mid)) for mid in post.milestone_ids]
    links = "".join(f'<li><a href="{escape(url)}">{escape(title)}</a></li>'
                    for url, title in pages)
    html = paragraphs(post.text) + (f"<ul>{links}</ul>" if links else "")
    external = post.remote_url if is_web_url(post.remote_url) else None
    if external:
        html += f'<p><a href="{escape(external)}">Posted on {escape(post.channel)}</a></p>'
    published = utc(post.published_at)
    return Item(
        id=tag_uri(feed, f"post/{post.key}"),
        title=_post_title(post),
        url=pages[0][0] if pages else f"{feed.base_url}/",
        published=published,
        updated=published,
        summary=xml_safe(post.text),
        content_html=html,
        tags=(xml_safe(post.channel),),
        external_url=external,
    )
