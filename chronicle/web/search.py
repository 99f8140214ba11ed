"""/search?q=: the full-text search page, rendered per request from the search read model
(and /mn/search for each other language the site publishes: the same matches, shown in it)."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request
from fastapi.responses import Response

from chronicle.config import Settings
from chronicle.pages.builder import renderer_for
from chronicle.projections import ReadModels
from chronicle.uitext import language_prefix

HTML = "text/html; charset=utf-8"
RESULTS = 50
QUERY_LENGTH = 200


def register_search(app: FastAPI, settings: Settings, read_models: ReadModels) -> None:
    for language in settings.feed.languages:
        _register(app, settings, read_models, language)


def _register(app: FastAPI, settings: Settings, read_models: ReadModels, language: str) -> None:
    @app.get(f"{language_prefix(language)}/search", include_in_schema=False)
    def search(request: Request, q: str = "") -> Response:
        query = " ".join(q.split())[:QUERY_LENGTH]
        hits = read_models.search(query, RESULTS) if query else []
        body = renderer_for(settings, language).search(query, hits)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"etag": etag, "cache-control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=HTML, headers=headers)
