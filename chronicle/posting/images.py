"""The card image that goes with a post: one per single-milestone anniversary post.

A digest (several milestones) goes out as text only, as does every post when
``posting.images`` is off. Missing fonts never stop a post on its day: the post goes out as
text and the log says which package to install (``chronicle preflight`` says it earlier).
"""

from __future__ import annotations

import logging

from chronicle.cards import CardFontMissing, anniversary_image
from chronicle.config import Settings
from chronicle.posting.anniversaries import PlannedPost
from chronicle.projections import ReadModels
from chronicle.publishers.base import PostImage

log = logging.getLogger(__name__)


def post_image(settings: Settings, read_models: ReadModels, post: PlannedPost
               ) -> PostImage | None:
    """The card of `post`, or None (images off, a digest, or no card fonts)."""
    if not settings.posting.images or len(post.milestone_ids) != 1 or len(post.years) != 1:
        return None
    view = read_models.milestone(post.milestone_ids[0])
    if view is None:
        return None
    try:
        return anniversary_image(title=view.milestone.title, local_date=post.local_date,
                                 years=post.years[0], site_name=settings.feed.title)
    except CardFontMissing as exc:
        log.error("post %s goes out without its card: %s", post.key, exc)
        return None
