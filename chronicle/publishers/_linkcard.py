"""A link's preview card, read from its page's Open Graph tags (as Bluesky's apps do).

Used for Bluesky's external embed when a post carries no image. A page that cannot be read
still gives a card: its URL as the title and no description or thumbnail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from lxml import html

__all__ = ["LinkCard", "fetch_link_card"]

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 2_000_000
MAX_IMAGE_BYTES = 1_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkCard:
    url: str
    title: str
    description: str
    image: bytes | None = None


def _meta(tree: html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attribute in ("property", "name"):
            found = tree.xpath(f"//meta[@{attribute}=$n]/@content", n=name)
            if found:
                return str(found[0]).strip()
    return None


def fetch_link_card(url: str, *, timeout: float = 10.0) -> LinkCard:
    """The card of `url`: og:title, og:description and the og:image bytes when reachable."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            page = client.get(url)
            page.raise_for_status()
            tree = html.fromstring(page.content[:MAX_PAGE_BYTES])
            title = _meta(tree, "og:title", "twitter:title") or tree.findtext(".//title") or url
            description = _meta(tree, "og:description", "description") or ""
            image_url = _meta(tree, "og:image", "twitter:image")
            image = None
            if image_url:
                answer = client.get(str(page.url.join(image_url)))
                if answer.status_code == 200 and len(answer.content) <= MAX_IMAGE_BYTES:
                    image = answer.content
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("link card for %s: %s; posting the bare link", url, exc)
        return LinkCard(url=url, title=url, description="")
    return LinkCard(url=url, title=title.strip(), description=description, image=image)
