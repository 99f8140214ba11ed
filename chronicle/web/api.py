"""The JSON API: /api/milestones (filters, cursor pages), /api/milestones/{id}, /api/tags.

Read-only, answered from the read models the follower keeps current. Every answer carries a
strong ETag (a hash of its bytes) and honours If-None-Match with 304, as the feeds do; CORS
is open for GET (and the preflight an If-None-Match needs). The OpenAPI description is at
/api/openapi.json, its docs at /api/docs (see create_app).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from chronicle.dates import HistoricalDate, InvalidDate
from chronicle.pages.audit import LogReader, from_history, from_stream, trail_json
from chronicle.projections import MilestoneView, ReadModels
from chronicle.projections.jsonviews import hit_json, milestone_json
from chronicle.projections.milestone_rows import sort_key

JSON = "application/json"
CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "ETag"}
PREFLIGHT = {**CORS, "access-control-allow-methods": "GET, HEAD, OPTIONS",
             "access-control-allow-headers": "If-None-Match, If-Modified-Since",
             "access-control-max-age": "86400"}
SEARCH_LIMIT = 1000   # matches considered before the other filters and the page


class BadQuery(ValueError):
    """A query parameter the API cannot use; answered 400 with the parameter named."""


def json_response(request: Request, body: Any, status: int = 200) -> Response:
    """JSON bytes with a strong ETag; 304 when the client already holds them."""
    data = json.dumps(body, ensure_ascii=False, indent=1).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {**CORS, "etag": etag, "cache-control": "no-cache"}
    wanted = request.headers.get("if-none-match", "")
    if status == 200 and any(tag.strip().removeprefix("W/") in (etag, "*")
                             for tag in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(data, status_code=status, media_type=JSON, headers=headers)


def error(request: Request, status: int, message: str) -> Response:
    return json_response(request, {"error": message}, status)


def _date(name: str, text: str | None) -> HistoricalDate | None:
    if text is None:
        return None
    try:
        return HistoricalDate.parse(text)
    except (InvalidDate, ValueError):
        raise BadQuery(f"{name}: {text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)") from None


def _month_day(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise BadQuery(f"on: {text!r} is not a month and day as MM-DD (e.g. 01-27)")
    try:
        HistoricalDate.parse(f"2000-{text}")
    except (InvalidDate, ValueError):
        raise BadQuery(f"on: {text!r} is not a day of the year") from None
    return int(parts[0]), int(parts[1])


def encode_cursor(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise BadQuery("cursor: not a cursor this API gave (use next_cursor as it is)") from None
    if not isinstance(value, dict):
        raise BadQuery("cursor: not a cursor this API gave (use next_cursor as it is)")
    return value


def _within(view: MilestoneView, start: HistoricalDate | None,
            end: HistoricalDate | None) -> bool:
    date = view.milestone.date
    return ((start is None or date.last_day() >= start.first_day())
            and (end is None or date.first_day() <= end.last_day()))


def _key(view: MilestoneView) -> list[str]:
    return [sort_key(view.milestone.date), view.id]


def milestones_page(models: ReadModels, *, q: str | None, tag: str | None, year: int | None,
                    start: HistoricalDate | None, end: HistoricalDate | None,
                    on: tuple[int, int] | None, limit: int, cursor: dict[str, Any]
                    ) -> dict[str, Any]:
    """One page: in historical order, or best match first with `q` (then the cursor is an
    offset into the matches; otherwise it is the last milestone's historical key)."""
    if q:
        allowed = {v.id for v in models.milestones(tag=tag, year=year, on=on)}
        hits = [h for h in models.search(q, SEARCH_LIMIT)
                if h.view.id in allowed and _within(h.view, start, end)]
        offset = cursor.get("offset", 0)
        if not isinstance(offset, int) or offset < 0:
            raise BadQuery("cursor: not a cursor of this query")
        chosen = hits[offset:offset + limit]
        more = offset + limit < len(hits)
        return {"items": [hit_json(h) for h in chosen], "total": len(hits),
                "next_cursor": encode_cursor({"offset": offset + limit}) if more else None}
    views = [v for v in models.milestones(tag=tag, year=year, on=on) if _within(v, start, end)]
    after = cursor.get("after")
    if after is not None:
        if not (isinstance(after, list) and len(after) == 2):
            raise BadQuery("cursor: not a cursor of this query")
        views_after = [v for v in views if _key(v) > after]
    else:
        views_after = views
    chosen_views = views_after[:limit]
    more = len(views_after) > limit
    return {"items": [milestone_json(v) for v in chosen_views], "total": len(views),
            "next_cursor": encode_cursor({"after": _key(chosen_views[-1])}) if more else None}


def api_router(read_models: ReadModels) -> APIRouter:
    """The API's routes over one database's read models."""
    router = APIRouter(prefix="/api", tags=["milestones"])

    @router.get("/milestones", summary="Milestones, filtered, a page at a time")
    def milestones(
        request: Request,
        q: Annotated[str | None, Query(description="Full-text search: every word must match "
                                       "(titles, summaries, people, places, tags, quotes); "
                                       "results best first, with `match` highlights.")] = None,
        tag: Annotated[str | None, Query(description="Only milestones with this tag.")] = None,
        year: Annotated[int | None, Query(description="Only milestones in this year.")] = None,
        from_: Annotated[str | None, Query(alias="from", description="Only milestones ending "
                                           "on or after this date (YYYY, YYYY-MM, YYYY-MM-DD)."
                                           )] = None,
        to: Annotated[str | None, Query(description="Only milestones starting on or before "
                                        "this date (YYYY, YYYY-MM, YYYY-MM-DD).")] = None,
        on: Annotated[str | None, Query(description="Only day-precision milestones on this "
                                        "month and day, MM-DD (e.g. 01-27).")] = None,
        limit: Annotated[int, Query(ge=1, le=500, description="Items per page.")] = 50,
        cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page."
                                            )] = None,
    ) -> Response:
        """The same fields as `chronicle milestones --json`, in historical order (best match
        first with `q`); `next_cursor` is null on the last page."""
        try:
            page = milestones_page(read_models, q=q, tag=tag, year=year,
                                   start=_date("from", from_), end=_date("to", to),
                                   on=_month_day(on), limit=limit, cursor=decode_cursor(cursor))
        except BadQuery as exc:
            return error(request, 400, str(exc))
        return json_response(request, page)

    @router.get("/milestones/{milestone_id}", summary="One milestone with its history")
    def milestone(request: Request, milestone_id: str) -> Response:
        """Its fields and its audit trail (each change: field, old, new); 410 with the
        history when retracted, 404 when unknown."""
        view = read_models.milestone(milestone_id)
        if view is not None:
            trail = from_history(read_models.history(milestone_id))
            return json_response(request, milestone_json(view) | {"history": trail_json(trail)})
        gone = read_models.retracted(milestone_id)
        if gone is None:
            return error(request, 404, f"{milestone_id}: no such milestone")
        reader = LogReader(read_models.engine)
        events = reader.stream(milestone_id)
        return json_response(request, {
            "id": gone.id, "title": gone.title,
            "retracted": {"reason": gone.reason, "retracted_at": gone.retracted_at.isoformat(),
                          "position": gone.position},
            "history": trail_json(from_stream(events))}, status=410)

    @router.get("/tags", summary="Every tag with its number of milestones")
    def tags(request: Request) -> Response:
        return json_response(request, [{"tag": t.tag, "count": t.count}
                                       for t in read_models.tags()])

    @router.options("/{path:path}", include_in_schema=False)
    def preflight(path: str) -> Response:
        return Response(status_code=204, headers=PREFLIGHT)

    return router


def register_api(app: FastAPI, read_models: ReadModels) -> None:
    app.include_router(api_router(read_models))
