"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): plain json, no library needed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from chronicle.config import FeedSettings
from chronicle.feeds.model import Feed, Format, Item
from chronicle.feeds.text import xml_safe

VERSION = "https://jsonfeed.org/version/1.1"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _item(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "date_published": _when(item.published),
        "date_modified": _when(item.updated),
        "tags": list(item.tags),
    }
    if item.external_url:
        data["external_url"] = item.external_url
    return data


def render_json_feed(feed: Feed, settings: FeedSettings) -> bytes:
    """Keys in a fixed order and no time of rendering: equal feeds give equal bytes."""
    data: dict[str, Any] = {
        "version": VERSION,
        "title": xml_safe(feed.title),
        "home_page_url": feed.home_url,
        "feed_url": f"{settings.base_url}{feed.path(Format.JSON)}",
        "description": xml_safe(feed.subtitle),
        "authors": [{"name": xml_safe(settings.author_name)}],
        "language": settings.language,
    }
    if settings.logo:
        data["icon"] = settings.logo
    if settings.icon:
        data["favicon"] = settings.icon
    hubs = [{"type": "WebSub", "url": link.href} for link in feed.links if link.rel == "hub"]
    if hubs:
        data["hubs"] = hubs
    if feed.log_head:  # JSON Feed extensions start with "_"
        data["_chronicle"] = {"log_head": feed.log_head}
    data["items"] = [_item(item) for item in feed.items]
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
