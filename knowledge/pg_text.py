"""The catalog's keyword index and JSON filters on PostgreSQL: `tsvector` columns holding exactly the terms SQLite's
FTS5 (porter unicode61) indexes, a postings table the triggers keep from them (stem -> row, per-column counts), and
FTS5's own BM25 formula computed in SQL over the query stems' postings.

Terms come from SQLite's tokenizer itself (an in-memory FTS5 table read back through `fts5vocab`), so both backends
index and query the same stems; ts_rank/ts_rank_cd are not BM25 and rank differently (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from shopguide.migrations import transaction

WEIGHTS = "ABC"  # FTS5 column 1, 2, 3 of a row (title, meta, body) as tsvector weight classes
MAX_POSITION = 16383  # tsvector's largest position
K1, B = 1.2, 0.75  # FTS5's bm25() constants
_PHRASE = re.compile(r'"((?:[^"]|"")*)"')
_RESTRICTED = re.compile(r"\((?P<every>.*)\) NOT \(\((?P<common>.*)\) NOT \((?P<rare>.*)\)\)", re.S)  # keyword_plan's
_AND = re.compile(r"\bAND\b")
TABLES = {"product": "products", "faq": "faqs", "document": "documents"}
POSTINGS = "keyword_postings"  # kept by triggers from the records' keyword columns: never written directly


class _Tokeniser:
    """SQLite's porter unicode61 tokenizer, through a scratch in-memory FTS5 table (one row at a time)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(c0, c1, c2, tokenize='porter unicode61')")
        self.db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self.lock = threading.Lock()

    def tokens(self, texts: Sequence[str]) -> list[tuple[str, int, int]]:
        """(term, column, offset) of every token of up to three column texts."""
        values = [*(t or "" for t in texts), "", "", ""][:3]
        with self.lock:
            self.db.execute("DELETE FROM t")
            self.db.execute("INSERT INTO t (rowid, c0, c1, c2) VALUES (1, ?, ?, ?)", values)
            return [(term, int(col[1:]), offset) for term, col, offset in
                    self.db.execute("SELECT term, col, offset FROM v")]


_TOKENISER = _Tokeniser()


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def keyword_vector(texts: Sequence[str]) -> tuple[str, int]:
    """(tsvector literal, token count) of a row's indexed column texts: column i's positions weighted WEIGHTS[i],
    numbered on from the previous column's, so a position's weight says which column (and bm25 weight) it is in."""
    found = _TOKENISER.tokens(texts)
    lengths = [0, 0, 0]
    for _, col, offset in found:
        lengths[col] = max(lengths[col], offset + 1)
    base = [0, lengths[0], lengths[0] + lengths[1]]
    positions: dict[str, list[str]] = {}
    for term, col, offset in found:
        positions.setdefault(term, []).append(f"{min(MAX_POSITION, base[col] + offset + 1)}{WEIGHTS[col]}")
    literal = " ".join(f"{_quote(term)}:{','.join(marks)}" for term, marks in positions.items())
    return literal, len(found)


def query_phrases(match: str) -> list[list[str]]:
    """The stems of each quoted phrase of an FTS5 expression as `fts_query` writes it ("a" OR "b")."""
    phrases = []
    for text in _PHRASE.findall(match):
        found = sorted(_TOKENISER.tokens([text.replace('""', '"')]), key=lambda t: t[2])
        if found:
            phrases.append([term for term, _, _ in found])
    return phrases


def tsquery(phrases: list[list[str]]) -> str:
    """A tsquery literal matching any of the phrases (a phrase of several stems: adjacent, in order)."""
    return " | ".join("(" + " <-> ".join(_quote(t) for t in p) + ")" if len(p) > 1 else _quote(p[0]) for p in phrases)


# ----- writing --------------------------------------------------------------------------------------------------
def keyword_columns(texts: Sequence[str]) -> dict[str, Any]:
    """A record's keyword columns (`keywords` as a tsvector literal, `keyword_len`) from its indexed texts."""
    literal, length = keyword_vector(texts)
    return {"keywords": literal, "keyword_len": length}


def index_row(db: Any, table: str, item_id: str, texts: Sequence[str]) -> None:
    """Set one record's keyword columns from its indexed texts (FTS5's columns, in order)."""
    columns = keyword_columns(texts)
    db.execute(f"UPDATE {table} SET keywords = ?::tsvector, keyword_len = ? WHERE id = ?",
               [columns["keywords"], columns["keyword_len"], item_id])


def create_catalog(db: Any) -> None:
    """Migration 1's record tables on PostgreSQL, with their keyword columns (GIN-indexed) in place of FTS5 tables
    (chunks, codes and meta are the same on both: catalog_schema.py)."""
    keywords = "keywords TSVECTOR NOT NULL DEFAULT ''::tsvector, keyword_len INTEGER NOT NULL DEFAULT 0"
    db.execute(f"""CREATE TABLE products (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, brand TEXT, category TEXT, type TEXT,
        price REAL, currency TEXT, colors TEXT, sizes TEXT, material TEXT, stock INTEGER,
        available INTEGER, rating REAL, description TEXT, image TEXT, url TEXT, attributes TEXT,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL, {keywords})""")
    db.execute("CREATE INDEX products_category ON products(category)")
    db.execute("CREATE INDEX products_brand ON products(lower(brand))")
    db.execute("CREATE INDEX products_price ON products(price)")
    db.execute(f"""CREATE TABLE faqs (
        id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, topic TEXT,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL, {keywords})""")
    db.execute(f"""CREATE TABLE documents (
        id TEXT PRIMARY KEY, product_id TEXT NOT NULL, source TEXT, text TEXT NOT NULL,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL, {keywords})""")
    db.execute("CREATE INDEX documents_product ON documents(product_id)")
    for table in TABLES.values():
        db.execute(f"CREATE INDEX {table}_keywords ON {table} USING GIN (keywords)")


# a posting's per-weight-class counts (over `u`, an unnested keyword vector's element) and their columns
_POSTING_COUNTS = ", ".join(f"cardinality(array_positions(u.weights, '{w}'))" for w in WEIGHTS)
_POSTING_NAMES = ", ".join(f"n{i}" for i in range(len(WEIGHTS)))


def create_postings(db: Any) -> None:
    """Migration 6 on PostgreSQL: `keyword_postings` (one row per record and stem: the record's token count and the
    stem's count in each weight class), filled from the keyword vectors and kept by triggers on every write to them,
    so every path that writes or deletes a record (ingest, re-index, prune, erasure) keeps it without knowing of it."""
    counts, names = _POSTING_COUNTS, _POSTING_NAMES
    columns = ", ".join(f"n{i} INTEGER NOT NULL" for i in range(len(WEIGHTS)))
    db.execute(f"""CREATE TABLE keyword_postings (
        tbl TEXT NOT NULL, stem TEXT NOT NULL, id TEXT NOT NULL, len INTEGER NOT NULL, {columns},
        PRIMARY KEY (tbl, stem, id) INCLUDE (len, {names}))""")
    db.execute("CREATE INDEX keyword_postings_row ON keyword_postings(tbl, id)")
    db.execute(f"""CREATE FUNCTION keyword_postings_sync() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM keyword_postings WHERE tbl = TG_TABLE_NAME AND id = OLD.id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO keyword_postings (tbl, stem, id, len, {names})
                SELECT TG_TABLE_NAME, u.lexeme, NEW.id, NEW.keyword_len, {counts} FROM unnest(NEW.keywords) AS u;
            END IF;
            RETURN NULL;
        END $$""")
    for table in TABLES.values():
        db.execute(f"CREATE TRIGGER {table}_postings AFTER INSERT OR DELETE OR UPDATE OF keywords, keyword_len, id "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION keyword_postings_sync()")
        fill_postings(db, table)


def fill_postings(db: Any, table: str) -> None:
    """Add the postings of every row of `table` in one statement (the trigger's work, set-based)."""
    db.execute(f"INSERT INTO {POSTINGS} (tbl, stem, id, len, {_POSTING_NAMES}) SELECT '{table}', u.lexeme, r.id, "
               f"r.keyword_len, {_POSTING_COUNTS} FROM {table} AS r, unnest(r.keywords) AS u")


@contextmanager
def bulk_postings(db: Any, table: str) -> Iterator[None]:
    """Around a bulk load of `table` into an empty one, inside a transaction: its postings trigger off, then every
    row's postings added in one statement (the same as the trigger's, for about a tenth of the time)."""
    if table not in TABLES.values():
        yield
        return
    db.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_postings")
    yield
    db.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_postings")
    fill_postings(db, table)


# ----- ranking --------------------------------------------------------------------------------------------------
class _Stats:
    """Row count, mean row length and per-phrase document frequencies of one table, for one catalog generation."""

    def __init__(self, generation: int, rows: int, mean_length: float) -> None:
        self.generation, self.rows, self.mean_length = generation, rows, mean_length
        self.frequency: dict[str, int] = {}


_STATS: dict[tuple[str, str, str], _Stats] = {}
_STATS_LOCK = threading.Lock()


def _idf(store: Any, kind: str, phrases: list[list[str]]) -> tuple[_Stats, list[float]]:
    """FTS5's IDF of each phrase: log((N - n + 0.5) / (n + 0.5)), 1e-6 where that is not positive."""
    table = TABLES[kind]
    key = (store.db.url, store.db.schema, table)
    generation = store.generation(kind)
    with _STATS_LOCK:
        stats = _STATS.get(key)
    if stats is None or stats.generation != generation:
        rows, total = store.db.execute(f"SELECT count(*), coalesce(sum(keyword_len), 0) FROM {table}").fetchone()
        stats = _Stats(generation, int(rows), (float(total) / rows) if rows else 1.0)
        with _STATS_LOCK:
            _STATS[key] = stats
    wanted = [tsquery([p]) for p in phrases]
    stems = {tsquery([p]): p[0] for p in phrases if len(p) == 1}
    missing = list(dict.fromkeys(q for q in wanted if q not in stats.frequency))
    single = [q for q in missing if q in stems]
    if single:  # a stem's frequency is its postings' count (an index range)
        counted = dict(store.db.execute("SELECT stem, count(*) FROM keyword_postings WHERE tbl = ? AND stem = ANY(?::text[]) "
                                        "GROUP BY stem", [table, [stems[q] for q in single]]).fetchall())
        stats.frequency.update((q, int(counted.get(stems[q], 0))) for q in single)
    missing = [q for q in missing if q not in stems]
    if missing:  # phrases: one pass over the index for all of them
        counts = ", ".join(f"count(*) FILTER (WHERE keywords @@ ?::tsquery)" for _ in missing)
        found = store.db.execute(f"SELECT {counts} FROM {table} WHERE keywords @@ ?::tsquery",
                                 [*missing, " | ".join(f"({q})" for q in missing)]).fetchone()
        stats.frequency.update(zip(missing, (int(n) for n in found)))
    n = stats.rows
    out = []
    for q in wanted:
        idf = math.log((n - stats.frequency[q] + 0.5) / (stats.frequency[q] + 0.5))
        out.append(idf if idf > 0 else 1e-6)
    return stats, out


def term_frequencies(store: Any, kind: str, terms: Sequence[str]) -> dict[str, int]:
    """How many rows of `kind` hold each FTS5 query term (`"term"`, stemmed as FTS5 does), read from the postings and
    cached with the IDFs until the records change. The caller holds the store's lock."""
    phrases = {t: query_phrases(f'"{t}"') for t in terms}
    found = [ph[0] for ph in phrases.values() if ph]
    if not found:
        return dict.fromkeys(terms, 0)
    stats, _ = _idf(store, kind, found)
    return {t: stats.frequency[tsquery([ph[0]])] if ph else 0 for t, ph in phrases.items()}


def plan_parts(match: str) -> tuple[str, str | None, bool]:
    """The parts of an expression of knowledge/keyword_plan.py: (every term, the rarer terms one of which a row must
    hold or None, whether every term is required). `(all) NOT ((common) NOT (rare))` and `"a" AND "b"`."""
    restricted = _RESTRICTED.fullmatch(match)
    if restricted:
        return restricted["every"], restricted["rare"], False
    return match, None, _AND.search(_PHRASE.sub('""', match)) is not None


def bm25(store: Any, kind: str, match: str, weights: Sequence[float] = (1.0, 1.0, 1.0), *, limit: int | None = None,
         where: str = "", params: Sequence[Any] = (), alias: str = "p") -> list[tuple[str, float]]:
    """(id, BM25) of the rows of `kind` matching the FTS5 expression `match` (and `where`, over `alias`), best first:
    FTS5's bm25() with these column weights, whose term frequencies and lengths are the same as FTS5's. The caller
    holds the store's lock. A phrase of several stems is scored by its first stem's frequency (fts_query's terms are
    single stems, so only hand-written expressions have them). The keyword plan's two other forms are read as FTS5
    reads them: a row must hold every term (AND), or one of the rarer terms (`plan_parts`), and is scored by all."""
    every, rare, required = plan_parts(match)
    phrases = query_phrases(every)  # a stem twice ("boot" OR "boots") counts twice, as in FTS5
    if not phrases:
        return []
    stats, idfs = _idf(store, kind, phrases)
    table = TABLES[kind]
    stems = [p[0] for p in phrases]
    rare_phrases = query_phrases(rare) if rare else []
    column_weights = (list(weights) + [1.0, 1.0, 1.0])[:3]
    having = " HAVING count(*) = ?" if required else ""
    tail = [*params, *([len(phrases)] if required else []), *([limit] if limit else [])]
    order = having + " ORDER BY score DESC, {0}.id" + (" LIMIT ?" if limit else "")

    def score(f: str, length: str) -> str:  # FTS5's per-stem BM25 term, summed; the mean length is its parameter
        return f"sum(q.idf * {f} * {K1 + 1} / ({f} + {K1} * ({1 - B} + {B} * {length} / ?::float8))) AS score"

    stems_join = "JOIN unnest(?::text[], ?::float8[]) AS q(lexeme, idf) ON q.lexeme = "
    if all(len(p) == 1 for p in phrases + rare_phrases):  # fts_query's terms: read the stems' postings only
        weighted = " + ".join(f"?::float8 * x.n{i}" for i in range(len(WEIGHTS)))
        rows = (f"JOIN {table} {alias} ON {alias}.id = x.id AND {where} " if where else "")
        # the rows of the rarer stems first, then only their postings of the query's stems (an index probe a row)
        among = (f"(SELECT DISTINCT r.id FROM keyword_postings r WHERE r.tbl = '{table}' AND r.stem = ANY(?::text[])) "
                 f"AS r JOIN keyword_postings x ON x.id = r.id AND " if rare_phrases else "keyword_postings x WHERE ")
        sql = (f"SELECT x.id, {score('x.f', 'x.len')} "
               f"FROM (SELECT x.id, x.len, x.stem, {weighted} AS f FROM {among}"
               f"x.tbl = '{table}' AND x.stem = ANY(?::text[])) AS x "
               f"{stems_join}x.stem {rows}GROUP BY x.id, x.len" + order.format("x"))
        rare_stems = [[p[0] for p in rare_phrases]] if rare_phrases else []
        args = [stats.mean_length, *column_weights, *rare_stems, stems, stems, idfs, *tail]
    else:
        # per matching row: its vector cut to the query's stems (two ts_delete calls, in C), then per stem the
        # weighted count of its positions, as FTS5 sums column weights over a phrase's instances
        weighted = " + ".join(f"?::float8 * cardinality(array_positions(weights, '{w}'))" for w in WEIGHTS)
        only = f"ts_delete({alias}.keywords, tsvector_to_array(ts_delete({alias}.keywords, ?::text[])))"
        matching = tsquery(phrases)
        if required:  # every phrase: counted by the row's lexemes below would miss a phrase's later stems
            matching, tail = " & ".join(f"({tsquery([p])})" for p in phrases), [*params, *([limit] if limit else [])]
            order = " ORDER BY score DESC, {0}.id" + (" LIMIT ?" if limit else "")
        also = [tsquery(rare_phrases)] if rare_phrases else []
        sql = (f"SELECT {alias}.id, {score('u.f', alias + '.keyword_len')} "
               f"FROM {table} {alias} CROSS JOIN LATERAL (SELECT lexeme, {weighted} AS f FROM unnest({only})) AS u "
               f"{stems_join}u.lexeme WHERE {alias}.keywords @@ ?::tsquery {'AND %s.keywords @@ ?::tsquery ' % alias if also else ''}"
               f"{'AND ' + where if where else ''} GROUP BY {alias}.id, {alias}.keyword_len" + order.format(alias))
        args = [stats.mean_length, *column_weights, stems, stems, idfs, matching, *also, *tail]
    return [(r[0], float(r[1])) for r in store.db.execute(sql, args).fetchall()]


def known(store: Any, kind: str, match: str) -> bool:
    """Whether any row of `kind` matches the FTS5 expression: for single stems a probe of the postings' index (the
    planner may scan the table for `keywords @@ … LIMIT 1` of a word no row holds, as a misspelling is)."""
    phrases = query_phrases(match)
    if phrases and all(len(p) == 1 for p in phrases):
        return store.db.execute("SELECT 1 FROM keyword_postings WHERE tbl = ? AND stem = ANY(?::text[]) LIMIT 1",
                                [TABLES[kind], [p[0] for p in phrases]]).fetchone() is not None
    return bool(phrases) and store.db.execute(
        f"SELECT 1 FROM {TABLES[kind]} WHERE keywords @@ ?::tsquery LIMIT 1", [tsquery(phrases)]).fetchone() is not None


def known_words(store: Any, kind: str, words: Sequence[str]) -> set[str]:
    """Those of `words` some row of `kind` holds: the single stems in one probe of the postings' index (a search
    checks each word it would repair, and each check was a round trip), anything else as `known` reads it."""
    stems: dict[str, str] = {}
    rest = []
    for word in dict.fromkeys(words):
        phrases = query_phrases(f'"{word}"')
        if len(phrases) == 1 and len(phrases[0]) == 1:
            stems[word] = phrases[0][0]
        else:
            rest.append(word)
    held: set[str] = set()
    if stems:
        held = {r[0] for r in store.db.execute(
            "SELECT s FROM unnest(?::text[]) AS s WHERE EXISTS "
            "(SELECT 1 FROM keyword_postings WHERE tbl = ? AND stem = s)", [sorted(set(stems.values())), TABLES[kind]])}
    return {w for w, stem in stems.items() if stem in held} | {w for w in rest if known(store, kind, f'"{w}"')}


def rebuild(db: Any, rows: dict[str, list[tuple[str, Sequence[str]]]]) -> None:
    """Re-index every row: per table, (id, column texts)."""
    with transaction(db):
        for table, items in rows.items():
            for item_id, texts in items:
                index_row(db, table, item_id, texts)


# ----- JSON held in TEXT columns --------------------------------------------------------------------------------
def json_elements(expr: str) -> str:
    """A FROM item `j(value)` over a JSON array in a TEXT column (SQLite: json_each(expr) j)."""
    return f"jsonb_array_elements_text(({expr})::jsonb) AS j(value)"


def json_length(expr: str) -> str:
    """The length of a JSON array (SQLite: json_array_length(expr))."""
    return f"jsonb_array_length(({expr})::jsonb)"


def json_field_text(expr: str) -> str:
    """A top-level field of a JSON object as text; its key is the next parameter."""
    return f"(({expr})::jsonb ->> ?)"


def json_field_equals(expr: str) -> str:
    """A top-level field of a JSON object equal to a JSON value; key, then the value as JSON text, as parameters."""
    return f"(({expr})::jsonb -> ?) = ?::jsonb"


FLAG_KEYS = ("SELECT DISTINCT j.key FROM products, jsonb_each(products.attributes::jsonb) AS j "
             "WHERE jsonb_typeof(j.value) = 'boolean'")
OTHER_KEYS = ("SELECT DISTINCT j.key FROM products, jsonb_each(products.attributes::jsonb) AS j "
              "WHERE jsonb_typeof(j.value) <> 'boolean'")
ATTRIBUTE_KEYS = "SELECT DISTINCT j.key FROM products, jsonb_each(products.attributes::jsonb) AS j"
GENDERS = ("SELECT DISTINCT lower(attributes::jsonb ->> 'gender') FROM products "
           "WHERE jsonb_typeof(attributes::jsonb -> 'gender') = 'string'")
SIZE_COUNTS = f"SELECT j.value, count(*) FROM products, {json_elements('products.sizes')} GROUP BY j.value"


def distinct_elements(column: str) -> str:
    """The distinct elements of a JSON-array column of products."""
    return f"SELECT DISTINCT j.value FROM products, {json_elements('products.' + column)}"
