"""Each milestone's card image as a Document at ``/cards/<milestone-id>.png``.

The Open Graph and Twitter card tags of a milestone page point there, so a link to the page
shows a preview wherever it is shared; `chronicle serve` serves it from the document cache and
`chronicle export` writes it beside the pages. Without the card fonts the pages still build:
the images are left out and the log says which package to install.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from chronicle.cards import CardFontMissing, milestone_card
from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.projections import MilestoneView

if TYPE_CHECKING:
    from chronicle.pages.builder import RenderMemo

log = logging.getLogger(__name__)

PNG = "image/png"
CARD_ROUTE = "/cards/{id}.png"

def card_path(milestone_id: str) -> str:
    return f"/cards/{milestone_id}.png"


def card_documents(settings: Settings, views: Iterable[MilestoneView],
                   memo: RenderMemo) -> list[Document]:
    """One PNG per milestone of `views`, re-rendered only when its title, date or site changes."""
    site = settings.feed.title
    documents = []
    try:
        for view in views:
            milestone = view.milestone
            version = (milestone.title, milestone.date_words(), site)
            png = memo.latest(("cardpng", milestone.id), version,
                              partial(milestone_card, milestone, site))
            documents.append(Document(card_path(milestone.id), png, PNG,
                                      view.updated_at.astimezone(dt.UTC), route=CARD_ROUTE))
    except CardFontMissing as exc:
        log.error("milestone card images left out: %s", exc)
        return []
    return documents
