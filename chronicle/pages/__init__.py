"""The public face: server-rendered HTML pages and the anniversary calendar.

`chronicle.feeds.documents` finds `documents` here, so `chronicle serve` caches the pages with
the feeds and `chronicle export` writes them; `chronicle.web.pages.register_page_routes`
adds clean URLs, 404/410 answers and WebSub pings to the app.
"""

from chronicle.pages.builder import documents

__all__ = ["documents"]
