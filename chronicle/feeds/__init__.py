"""Feeds people subscribe to: Atom 1.0, RSS 2.0 and JSON Feed 1.1, from the read models."""

from chronicle.feeds.catalog import FeedCatalog
from chronicle.feeds.model import Document, Feed, Format, Item, Link
from chronicle.feeds.render import FeedRenderer, feed_documents
from chronicle.feeds.snapshot import Snapshot, read_snapshot
from chronicle.feeds.text import xml_safe

__all__ = [
    "Document",
    "Feed",
    "FeedCatalog",
    "FeedRenderer",
    "Format",
    "Item",
    "Link",
    "Snapshot",
    "feed_documents",
    "read_snapshot",
    "xml_safe",
]
