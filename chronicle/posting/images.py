"""The card image that goes with a post: one per single-milestone anniversary post.

A digest (several milestones) goes out as text only, as does every post when
``posting.images`` is off, and X and the outbox take no image. A post in another language
gets the card in that language: the translated title, the day and the count in its words.
Missing fonts never stop a post on its day: the post goes out as text and the log says which
package to install (``chronicle preflight`` says it earlier).
"""

from __future__ import annotations

import logging
import struct

from chronicle.cards import CardFontMissing, anniversary_image
from chronicle.config import Settings
from chronicle.posting.anniversaries import PlannedPost
from chronicle.projections import ReadModels
from chronicle.publishers.base import PostImage

log = logging.getLogger(__name__)

IMAGE_CHANNELS = frozenset({"mastodon", "bluesky"})
"""The channels whose publishers attach the card."""


def _card(settings: Settings, read_models: ReadModels, post: PlannedPost
          ) -> PostImage | str:
    """The card of `post`, or why it has none; raises CardFontMissing without the fonts."""
    if not settings.posting.images:
        return "posting.images is off"
    if len(post.milestone_ids) != 1 or len(post.years) != 1:
        return "a digest goes out as text only"
    view = read_models.milestone(post.milestone_ids[0])
    if view is None:
        return "the milestone is not in the read model"
    milestone = view.milestone
    translation = milestone.translation(post.language) if post.language != "en" else None
    if post.language != "en" and translation is None:
        return f"the milestone has no {post.language} translation"
    title = translation.title if translation is not None else milestone.title
    return anniversary_image(title=title, local_date=post.local_date, years=post.years[0],
                             site_name=settings.feed.title, language=post.language)


def post_image(settings: Settings, read_models: ReadModels, post: PlannedPost
               ) -> PostImage | None:
    """The card of `post`, or None (images off, a digest, or no card fonts)."""
    try:
        card = _card(settings, read_models, post)
    except CardFontMissing as exc:
        log.error("post %s goes out without its card: %s", post.key, exc)
        return None
    return None if isinstance(card, str) else card


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (the first, at a fixed offset)."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def describe_image(settings: Settings, read_models: ReadModels, post: PlannedPost) -> str:
    """What `rehearse` and `queue` show: the card's size and alt text, or why there is none."""
    if post.channel not in IMAGE_CHANNELS:
        return f"none ({post.channel} posts text only)"
    try:
        card = _card(settings, read_models, post)
    except CardFontMissing as exc:
        return f"none ({exc})"
    if isinstance(card, str):
        return f"none ({card})"
    width, height = png_size(card.png)
    return f"card {width}×{height} PNG, {len(card.png):,} bytes; alt: {card.alt}"
