"""Full-text search: the only storage-specific SQL of the read models, SQLite FTS5 or PostgreSQL.

rm_search (a plain table: what the projection writes and `dump` compares) is indexed by the
database itself, through DDL run when the table is created:
  SQLite      an external-content FTS5 table, rm_search_fts: `index` adds the rows a batch
              inserted (one INSERT … SELECT of a rowid range, five times faster than a row
              trigger), a trigger
              removes deleted rows (so a projector's reset keeps it in step too). A rebuild
              `suspend`s both (its batches then write no rm_search rows: the search
              projection writes them all at the end) and `restore` builds the index once
              from every row (or `prepare`, after a rebuild that stopped half-way);
  PostgreSQL  a stored, generated tsvector column with a GIN index (title weighted over body).
Queries take the user's words (never FTS syntax: every word is quoted, the last one also
matches as a prefix) and answer with highlights between MARK_START and MARK_END.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.projections import tables as t

MARK_START, MARK_END = "\u2045", "\u2046"   # ⁅ ⁆: never in the data set, escaped in HTML later
SNIPPET_WORDS = 24
_WORD = re.compile(r"\w+", re.UNICODE)

_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE rm_search_fts USING fts5(title, body, content='rm_search', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER rm_search_ad AFTER DELETE ON rm_search BEGIN INSERT INTO rm_search_fts"
    "(rm_search_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body); END",
)
_POSTGRES_DDL = (
    "ALTER TABLE rm_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX ix_rm_search_tsv ON rm_search USING gin (tsv)",
)


def _ddl(statement: str, dialect: str) -> sa.DDL:
    """DDL run only on `dialect` (SQLAlchemy's DDL constructor is untyped)."""
    return sa.DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


for _statement in _SQLITE_DDL:
    sa.event.listen(t.search, "after_create", _ddl(_statement, "sqlite"))
for _statement in _POSTGRES_DDL:
    sa.event.listen(t.search, "after_create", _ddl(_statement, "postgresql"))
sa.event.listen(t.search, "before_drop", _ddl("DROP TABLE IF EXISTS rm_search_fts", "sqlite"))


def last_row(conn: Connection) -> int | None:
    """Where rm_search's rows end now: `index` then indexes the rows inserted after it.

    None on PostgreSQL, which indexes by itself. Not for a `suspended` index: a rebuild's
    batches write no rows then, `restore` indexes every row at the end."""
    if conn.dialect.name != "sqlite":
        return None
    return int(conn.execute(sa.text("SELECT coalesce(max(rowid), 0) FROM rm_search")).scalar_one())


def suspended(conn: Connection) -> bool:
    """Whether a rebuild has suspended SQLite's index (see `suspend`): until `restore`."""
    return conn.dialect.name == "sqlite" and not _indexed(conn)


def index(conn: Connection, after_row: int) -> None:
    """Index the rm_search rows inserted since `last_row` (SQLite only).

    SQLite gives a new row a rowid above every existing one, so they are one range scan."""
    conn.execute(sa.text("INSERT INTO rm_search_fts (rowid, title, body) SELECT rowid, title, "
                         "body FROM rm_search WHERE rowid > :after"), {"after": after_row})


def _indexed(conn: Connection) -> bool:
    found = conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                 "AND name = 'rm_search_fts'")).first()
    return found is not None


def suspend(conn: Connection) -> None:
    """Drop SQLite's index and its trigger for a rebuild's bulk load (see `restore`).

    Indexing each batch, and removing the index entries of the rows a later batch replaces,
    cost a rebuild more than indexing the final rows once."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS rm_search_ad")
        conn.exec_driver_sql("DROP TABLE IF EXISTS rm_search_fts")


def restore(conn: Connection) -> None:
    """Create SQLite's index and trigger if `suspend` dropped them, and index every row."""
    if conn.dialect.name != "sqlite" or _indexed(conn):
        return
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS rm_search_ad")
    for statement in _SQLITE_DDL:
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql("INSERT INTO rm_search_fts (rm_search_fts) VALUES ('rebuild')")


@dataclass(frozen=True, slots=True)
class Hit:
    """One match: the milestone, its title and a passage of the rest, matches marked."""

    milestone_id: str
    title: str
    snippet: str


def words(query: str) -> list[str]:
    return _WORD.findall(query)


def search(conn: Connection, query: str, limit: int, offset: int = 0) -> list[Hit]:
    """The best matches of every word of `query`, best first; none for a query without words."""
    found = words(query)
    if not found:
        return []
    if conn.dialect.name == "postgresql":
        return _postgres(conn, " ".join(found), limit, offset)
    return _sqlite(conn, found, limit, offset)


def _sqlite(conn: Connection, found: list[str], limit: int, offset: int) -> list[Hit]:
    quoted = [f'"{word}"' for word in found]
    quoted[-1] += "*"
    sql = sa.text(
        "SELECT s.milestone_id, highlight(rm_search_fts, 0, :a, :b), "
        "snippet(rm_search_fts, 1, :a, :b, '…', :n) FROM rm_search_fts "
        "JOIN rm_search AS s ON s.rowid = rm_search_fts.rowid "
        "WHERE rm_search_fts MATCH :q ORDER BY bm25(rm_search_fts, 5.0, 1.0), s.milestone_id "
        "LIMIT :limit OFFSET :offset")
    rows = conn.execute(sql, {"a": MARK_START, "b": MARK_END, "n": SNIPPET_WORDS,
                              "q": " ".join(quoted), "limit": limit, "offset": offset})
    return [Hit(*row) for row in rows]


def _postgres(conn: Connection, text: str, limit: int, offset: int) -> list[Hit]:
    options = (f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true")
    snippet = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, "
               "MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"")
    sql = sa.text(
        "SELECT milestone_id, ts_headline('english', title, q, :title_options), "
        "ts_headline('english', body, q, :snippet_options) "
        "FROM rm_search, websearch_to_tsquery('english', :q) AS q WHERE tsv @@ q "
        "ORDER BY ts_rank(tsv, q) DESC, milestone_id LIMIT :limit OFFSET :offset")
    rows = conn.execute(sql, {"title_options": options, "snippet_options": snippet, "q": text,
                              "limit": limit, "offset": offset})
    return [Hit(*row) for row in rows]
