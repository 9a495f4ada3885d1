"""Ingestion: good and bad files in every format, idempotency, prune, chunking, interrupted ingests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import knowledge.ingest_vectors as vectors_mod
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_file, read_file
from knowledge.search import ProductSearch
from shopguide.errors import IngestError

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


class CountingEmbedder:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def encode(self, texts, *, batch_size=None):
        self.texts.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def kb(tmp_path, embedder):
    base = KnowledgeBase(tmp_path / "kb", CountingEmbedder(embedder))
    yield base
    base.close()


def lines_of(parsed) -> dict[str, int]:
    return dict(parsed.lines)


def problems_of(report_or_parsed) -> dict[int, str]:
    return {p.line: p.reason for p in report_or_parsed.problems}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def views(kb: KnowledgeBase, kind: str = "product") -> dict[str, dict[str, str]]:
    """Every store's view of each item's hash; raises if the stores disagree about any chunk."""
    table = {"product": "products", "faq": "faqs", "document": "documents"}[kind]
    db = kb.store.db
    records = {r[0]: r[1] for r in db.execute(f"SELECT id, hash FROM {table}")}
    fts = {r[0] for r in db.execute(f"SELECT id FROM {table}_fts")}
    unaligned = db.execute(f"SELECT count(*) FROM {table}_fts f LEFT JOIN {table} t ON t.rowid = f.rowid "
                           "WHERE t.id IS NOT f.id").fetchone()[0]
    assert unaligned == 0, "an FTS row's rowid is not its record's"
    chunks = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, item_id, hash FROM chunks WHERE kind = ?", [kind])}
    got = kb.vectors.collection(kind).get(include=["metadatas"])
    vectors = {i: m["hash"] for i, m in zip(got["ids"], got["metadatas"])}
    assert fts == set(records), "FTS rows differ from records"
    assert set(vectors) == set(chunks), "vector ids differ from chunk rows"
    for cid, (item, digest) in chunks.items():
        assert digest == records[item] == vectors[cid], f"chunk {cid} is half-written"
    assert {item for item, _ in chunks.values()} == set(records)
    return {"records": records}


# ----- good files -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["products_good.csv", "products_good.jsonl", "products_good.json"])
def test_good_file_in_each_format(name):
    parsed = read_file("product", FIXTURES / name)
    assert parsed.problems == []
    by_id = {r.id: r for r in parsed.records}
    assert set(by_id) == {"SG-100", "SG-101", "SG-102"}
    shoe, jacket, mug = by_id["SG-100"], by_id["SG-101"], by_id["SG-102"]
    assert (shoe.title, shoe.brand, shoe.category, shoe.price, shoe.stock) == ("Ridge Trail Shoe", "Ridgeline", "footwear", 89.9, 5)
    assert shoe.colors == ("blue", "grey") and shoe.sizes == ("41", "42")
    assert shoe.attributes == {"waterproof": True, "ean": "0012345678905"}  # leading zeros kept
    assert shoe.description == "A light trail shoe.\nGrippy rubber sole for wet rock."
    assert (jacket.price, jacket.currency, jacket.stock, jacket.in_stock) == (129.0, "EUR", 0, False)
    # missing fields stay missing
    assert (mug.price, mug.brand, mug.category, mug.stock, mug.in_stock, mug.currency) == (4.5, None, None, None, None, None)
    expected_lines = {"products_good.csv": {"SG-100": 2, "SG-101": 4, "SG-102": 5},
                      "products_good.jsonl": {"SG-100": 1, "SG-101": 2, "SG-102": 4},
                      "products_good.json": {"SG-100": 2, "SG-101": 6, "SG-102": 9}}[name]
    assert lines_of(parsed) == expected_lines


def test_same_catalog_in_three_formats_is_the_same_catalog(kb):
    first = ingest_file(kb, "product", FIXTURES / "products_good.csv")
    assert (first.added, first.rejected, first.exit_code) == (3, 0, 0)
    views(kb)
    for name in ("products_good.jsonl", "products_good.json"):
        again = ingest_file(kb, "product", FIXTURES / name)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3), name


def test_faqs_and_documents_with_aliases_and_line_numbers(kb):
    faqs = ingest_file(kb, "faq", FIXTURES / "faqs.csv")
    assert (faqs.added, faqs.rejected) == (2, 1)
    assert problems_of(faqs) == {4: "missing answer"}
    assert kb.store.get_faqs(["returns"])["returns"].topic == "orders"
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    docs = ingest_file(kb, "document", FIXTURES / "documents.jsonl")
    assert (docs.added, docs.rejected, docs.exit_code) == (2, 2, 1)
    found = problems_of(docs)
    assert set(found) == {3, 4}  # real lines, not 0
    assert "unknown product 'NOPE-9'" in found[3] and found[4] == "missing text"
    assert [d.source for d in kb.store.documents_for("SG-101")] == ["spec"]
    views(kb, "faq")
    views(kb, "document")


# ----- bad files --------------------------------------------------------------------------
def test_bad_csv_rows_are_reported_by_line_and_the_rest_kept(kb):
    report = ingest_file(kb, "product", FIXTURES / "products_bad.csv")
    found = problems_of(report)
    assert found.keys() == {4, 5, 6, 7, 8, 9, 10, 11}
    assert found[4] == "missing id"
    assert found[5] == "missing title"
    assert found[6] == "price is not a number: 'cheap'"
    assert found[7] == "stock is negative: -2"
    assert found[8] == "duplicate id 'SG-1' (first on line 2)"
    assert found[9] == "row has 3 values but the header has 6 columns"
    assert found[10] == "not valid UTF-8: byte 0xe9 after 'Caf' (is the file Latin-1 or Windows-1252? save it as UTF-8)"
    assert "unclosed quote" in found[11]
    assert all(p.file == str(FIXTURES / "products_bad.csv") for p in report.problems)
    assert str(report.problems[0]).startswith(f"{FIXTURES / 'products_bad.csv'}:4: ")
    # the multi-line row on lines 2-3 and the row after the open quote survive
    assert (report.added, report.rejected, report.exit_code) == (2, 8, 1)
    assert kb.store.get_product("SG-1").description == "Light shoe.\nGrippy sole."
    assert kb.store.get_product("SG-9").price == 12.5
    views(kb)


def test_bad_jsonl_rows(kb):
    report = ingest_file(kb, "product", FIXTURES / "products_bad.jsonl")
    found = problems_of(report)
    assert found.keys() == {2, 3, 4, 6, 7, 8}
    assert found[2].startswith("invalid JSON")
    assert found[3] == "expected an object, got an array"
    assert "not valid UTF-8" in found[4] and "Latin-1" in found[4]
    assert found[6] == "price is not a number: 'ten'"
    assert found[7] == "expected an object, got a string"
    assert found[8] == "duplicate id 'J-1' (first on line 1)"
    assert sorted(p.id for p in kb.store.all_products()) == ["J-1", "J-5"]
    assert kb.store.get_product("J-5").stock == 3


def test_bad_json_array_elements(kb):
    parsed = read_file("product", FIXTURES / "products_bad.json")
    assert lines_of(parsed) == {"A-1": 2, "A-3": 5}
    found = problems_of(parsed)
    assert found.keys() == {3, 4, 8, 9, 10}
    assert found[3].startswith("invalid JSON")
    assert found[4] == "expected an object, got a number"
    assert found[8] == "missing id"
    assert found[9] == "stock is negative: -1"
    assert found[10] == "expected an object, got null"
    assert parsed.records[1].price == 12.5 and parsed.records[1].currency == "EUR"


def test_one_line_json_array_with_a_broken_element(tmp_path):
    path = tmp_path / "min.json"
    path.write_text('[{"id":"a","title":"A"},{"id":"b","title":},{"id":"c","title":"C"}]', encoding="utf-8")
    parsed = read_file("product", path)
    assert [r.id for r in parsed.records] == ["a", "c"]
    assert len(parsed.problems) == 1


def test_csv_variants_semicolons_bom_crlf_and_quotes(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffID;Title;Price\r\np1;\"Two\r\nlines\";3\r\n\r\np2;Samsung 55\" TV;4\r\n"
                     "p3;\"Open;5\r\np4;Four;6\r\np5;Five;\"7\"\r\n".encode("utf-8"))
    parsed = read_file("product", path)
    assert lines_of(parsed) == {"p1": 2, "p2": 5, "p4": 7, "p5": 8}
    assert parsed.records[1].title == 'Samsung 55" TV'
    assert list(problems_of(parsed)) == [6] and "not closed" in parsed.problems[0].reason


def test_a_sku_beside_an_id_column_is_kept_and_found_as_a_code(kb, tmp_path):
    path = tmp_path / "woo.csv"
    path.write_text("ID,SKU,Name,Price,Waterproof\n101,WB-RED-42,Red Water Bottle,12,yes\n"
                    "102,WB-BLU-42,Blue Water Bottle,12,no\n", encoding="utf-8")
    assert ingest_file(kb, "product", path).added == 2
    red = kb.store.get_product("101")
    assert red.title == "Red Water Bottle" and red.attributes == {"sku": "WB-RED-42", "waterproof": True}
    assert kb.store.products_by_code(["wb red 42"]) == ["101"]
    hits = ProductSearch(kb).search("WB-RED-42").hits
    assert hits[0].product.id == "101" and hits[0].exact


def test_attribute_keys_are_stored_one_way():
    from knowledge.schema import attribute_key, parse_product

    p = parse_product({"id": "a", "title": "t", "attributes": {"Fill Power": 700, "IP-Rating": "IPX4"}})
    assert p.attributes == {"fill_power": 700, "ip_rating": "IPX4"}
    assert attribute_key(" Fill-Power ") == "fill_power"


def test_a_pipe_or_semicolon_list_keeps_its_commas():
    from knowledge.schema import parse_product

    assert parse_product({"id": "a", "title": "t", "sizes": "36|37,5|38"}).sizes == ("36", "37,5", "38")
    assert parse_product({"id": "a", "title": "t", "sizes": "S; M; L"}).sizes == ("S", "M", "L")
    assert parse_product({"id": "a", "title": "t", "colors": "Red, Blue"}).colors == ("red", "blue")


def test_currency_column_is_a_code():
    from knowledge.schema import RowError, parse_product

    for written, code in (("euro", "EUR"), ("€", "EUR"), ("usd", "USD"), ("Chf", "CHF")):
        assert parse_product({"id": "a", "title": "t", "price": "5", "currency": written}).currency == code
    with pytest.raises(RowError, match="currency is not a 3-letter code: 'per box'"):
        parse_product({"id": "a", "title": "t", "price": "5", "currency": "per box"})


@pytest.mark.parametrize("text, expected", [
    ("12.50", (12.5, None)), ("€12,50", (12.5, "EUR")), ("1.299,00 EUR", (1299.0, "EUR")), ("EUR 1,299.00", (1299.0, "EUR")),
    ("1 299,00", (1299.0, None)), ("12.345", (12.345, None)), ("free", None), ("5-10", None), ("12,345,67", None), ("-3", None),
    ("19.99 usd", (19.99, "USD")), ("CHF 5", (5.0, "CHF")), ("1 299,00 EUR", (1299.0, "EUR")), ("12'500.50", (12500.5, None)),
    ("5 10", None), ("19 99", None), ("$5 $6", None), ("per 5", None), ("box 12", None),
])
def test_price_text(text, expected):
    from knowledge.row_values import RowError, _price

    if expected is None:
        with pytest.raises(RowError):
            _price(text)
    else:
        assert _price(text) == expected


def test_canonical_column_wins_over_its_alias():
    from knowledge.schema import parse_product

    p = parse_product({"sku": "ALIAS", "name": "Alias title", "id": "CANON", "title": "Canon title"})
    assert (p.id, p.title) == ("CANON", "Canon title")


def test_empty_file_ingests_nothing_and_says_so(kb, tmp_path):
    for content, fmt in [(b"", "csv"), (b"id,title\n", "csv"), (b"\n\n", "jsonl"), (b" ", "json"), (b"[]", "json")]:
        path = tmp_path / f"empty.{fmt}"
        path.write_bytes(content)
        parsed = read_file("product", path)
        assert (parsed.rows, parsed.records, parsed.problems) == (0, [], []), content
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    path.write_bytes(b"[]")
    report = ingest_file(kb, "product", path, prune=True)
    assert (report.rows, report.added, report.removed, report.rejected, report.exit_code) == (0, 0, 0, 0, 0)
    assert report.notes == ["the file holds no rows; nothing was ingested and nothing was pruned"]
    assert kb.store.count("product") == 3  # an empty file never wipes the store


def test_unreadable_files_are_file_errors(tmp_path):
    cases = {
        "missing.csv": ("no such file", None),
        "dir.csv": ("is a directory", lambda p: p.mkdir()),
        "binary.csv": ("binary file", lambda p: p.write_bytes(b"PK\x03\x04\x00\x00\x00binary")),
        "notes.txt": ("cannot tell the format", lambda p: p.write_text("x")),
        "nocol.csv": ("no 'title' column (or name, product_name, product_title)",
                      lambda p: p.write_text("sku,label\n1,x\n")),
    }
    for name, (message, make) in cases.items():
        path = tmp_path / name
        if make:
            make(path)
        with pytest.raises(IngestError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_file("product", path)


def test_utf16_file_with_bom_is_read(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("id,title\np1,Café\n".encode("utf-16"))
    assert [r.title for r in read_file("product", path).records] == ["Café"]


def test_strict_rejects_the_whole_file(kb):
    report = ingest_file(kb, "product", FIXTURES / "products_bad.jsonl", strict=True)
    assert (report.added, report.rejected, report.exit_code) == (0, 6, 1)
    assert "whole file was rejected" in report.notes[0]
    assert kb.store.count("product") == 0 and kb.vectors.count("product") == 0
    assert kb.embedder.texts == []


# ----- idempotency and prune ----------------------------------------------------------------
def test_second_ingest_embeds_nothing_and_a_change_is_embedded_alone(kb, tmp_path):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    assert len(kb.embedder.texts) == 6  # per product: the title alone, then title + description
    kb.embedder.texts.clear()
    again = ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    assert (again.added, again.updated, again.unchanged, again.embedded_chunks) == (0, 0, 3, 0)
    assert kb.embedder.texts == []
    rows = [json.loads(line) for line in (FIXTURES / "products_good.jsonl").read_text().splitlines() if line.strip()]
    rows[1]["description"] = "Now with pit zips."
    changed = ingest_file(kb, "product", write_jsonl(tmp_path / "p.jsonl", rows))
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 2)
    assert kb.embedder.texts == ["Summit Rain Jacket.", "Summit Rain Jacket. Now with pit zips."]
    assert kb.store.get_product("SG-101").description == "Now with pit zips."
    views(kb)


@pytest.mark.parametrize("shift", [1, 1000])
def test_updates_replace_keyword_rows_even_when_rowids_drift(kb, tmp_path, shift):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    rows = [json.loads(line) for line in (FIXTURES / "products_good.jsonl").read_text().splitlines() if line.strip()]
    db = kb.store.db
    # Shift every FTS rowid away from its record's, as a rowid-renumbering VACUUM could.
    old = db.execute("SELECT rowid, id, title, meta, body FROM products_fts").fetchall()
    db.execute("DELETE FROM products_fts")
    for rowid, *cols in old:
        db.execute("INSERT INTO products_fts (rowid, id, title, meta, body) VALUES (?, ?, ?, ?, ?)", [rowid + shift, *cols])
    rows[1]["description"] = "Now with pit zips."
    rows.append({"id": "SG-103", "title": "Trail Gaiter"})
    report = ingest_file(kb, "product", write_jsonl(tmp_path / "p.jsonl", rows))
    assert (report.added, report.updated) == (1, 1)
    assert [r[0] for r in db.execute("SELECT id FROM products_fts WHERE products_fts MATCH 'pit zips'")] == ["SG-101"]
    assert db.execute("SELECT count(*) FROM products_fts WHERE id = 'SG-101'").fetchone()[0] == 1
    views(kb)


def test_prune_removes_absent_items_from_every_store(kb, tmp_path):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    rows = [json.loads(line) for line in (FIXTURES / "products_good.jsonl").read_text().splitlines() if line.strip()]
    without = ingest_file(kb, "product", write_jsonl(tmp_path / "p.jsonl", rows[:2]), prune=True)
    assert (without.removed, without.unchanged) == (1, 2)
    assert kb.store.get_product("SG-102") is None
    assert not any(i.startswith("p:SG-102:") for i in kb.vectors.ids("product"))
    assert kb.store.products_by_code(["SG-102"]) == []
    assert views(kb)["records"].keys() == {"SG-100", "SG-101"}


def test_pruning_a_product_removes_its_documents_too(kb, tmp_path):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    docs = [{"id": "D1", "product_id": "SG-102", "source": "review", "text": "Warm and light."},
            {"id": "D2", "product_id": "SG-100", "source": "review", "text": "Good grip on wet rock."}]
    ingest_file(kb, "document", write_jsonl(tmp_path / "d.jsonl", docs))
    rows = [json.loads(line) for line in (FIXTURES / "products_good.jsonl").read_text().splitlines() if line.strip()]
    report = ingest_file(kb, "product", write_jsonl(tmp_path / "p.jsonl", rows[:2]), prune=True)
    assert report.removed == 1 and any("removed 1 documents" in n for n in report.notes)
    assert {r[0] for r in kb.store.db.execute("SELECT id FROM documents")} == {"D2"}
    assert {r[0] for r in kb.store.db.execute("SELECT id FROM documents_fts")} == {"D2"}
    assert {i.split(":")[1] for i in kb.vectors.ids("document")} == {"D2"}


def test_prune_keeps_items_whose_rows_were_rejected(kb, tmp_path):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    bad = write_jsonl(tmp_path / "p.jsonl", [{"id": "SG-100", "title": "Shoe"}, {"id": "SG-101", "title": "J", "price": "?"}])
    report = ingest_file(kb, "product", bad, prune=True)
    assert (report.updated, report.rejected, report.removed) == (1, 1, 1)
    assert kb.store.get_product("SG-101") is not None  # its row was bad, not absent
    with open(bad, "a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    report = ingest_file(kb, "product", bad, prune=True)
    assert report.removed == 0 and any("--prune skipped" in n for n in report.notes)


def test_prune_never_trusts_the_id_of_a_shifted_or_mis_decoded_row(kb, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("name,sku,price\nMug,M-1,5\nTea Pot,T-1,9\nCafé Mug,CAFÉ-1,7\n", encoding="utf-8")
    assert ingest_file(kb, "product", first).added == 3
    shifted = tmp_path / "shifted.csv"  # an unquoted comma moves "M-1" into the price column
    shifted.write_text("name,sku,price\nMug, large,M-1,6\nTea Pot,T-1,9\nCafé Mug,CAFÉ-1,7\n", encoding="utf-8")
    report = ingest_file(kb, "product", shifted, prune=True)
    assert (report.rejected, report.removed) == (1, 0) and any("--prune skipped" in n for n in report.notes)
    latin = tmp_path / "latin.csv"  # the same file saved as Latin-1: the id itself cannot be read
    latin.write_bytes("name,sku,price\nMug,M-1,5\nTea Pot,T-1,9\nCafé Mug,CAFÉ-1,7\n".encode("latin-1"))
    report = ingest_file(kb, "product", latin, prune=True)
    assert (report.rejected, report.removed) == (1, 0) and any("--prune skipped" in n for n in report.notes)
    assert set(views(kb)["records"]) == {"M-1", "T-1", "CAFÉ-1"}


def test_values_sqlite_or_json_cannot_hold_reject_only_their_row(kb, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id":"A","title":"Fine","weight":5,"stock":3}\n'
                    '{"id":"B","title":"Infinite","weight":Infinity}\n'
                    '{"id":"C","title":"NaN inside","dims":[1, NaN]}\n'
                    '{"id":"D","title":"Huge stock","stock":1e20}\n'
                    '{"id":"E","title":"Fine too","stock":"4"}\n', encoding="utf-8")
    report = ingest_file(kb, "product", path)
    assert (report.added, report.rejected) == (2, 3)
    assert problems_of(report) == {2: "attribute 'weight' is not a finite number: inf",
                                   3: "attribute 'dims' is not a finite number: nan",
                                   4: "stock is too large: 1e+20"}
    assert set(views(kb)["records"]) == {"A", "E"}
    assert kb.store.vocabulary()["attributes"] == ["weight"]  # the stored JSON stays readable


def test_a_changed_embedding_model_re_embeds_everything(kb):
    ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    kb.store.set_meta("embedder:product", "some/other-model")
    report = ingest_file(kb, "product", FIXTURES / "products_good.jsonl")
    assert (report.updated, report.unchanged) == (3, 0)
    assert "embedding model or passage format changed" in report.notes[0] and report.embedded_chunks == 6


# ----- chunking ------------------------------------------------------------------------------
def test_long_description_is_chunked_within_the_embedder_window(kb, tmp_path):
    sentences = [f"Sentence number {i} mentions the word marker{i} and some filler about trail running shoes."
                 for i in range(60)]
    row = {"id": "LONG-1", "title": "Endless Trail Shoe", "description": " ".join(sentences)}
    report = ingest_file(kb, "product", write_jsonl(tmp_path / "long.jsonl", [row]))
    chunks = [r[0] for r in kb.store.db.execute("SELECT text FROM chunks WHERE item_id = 'LONG-1' ORDER BY seq")]
    assert len(chunks) > 3 and report.embedded_chunks == len(chunks)
    window = kb.embedder.max_tokens
    assert all(kb.embedder.count_tokens(c) + 2 <= window for c in chunks)  # +2: [CLS] and [SEP]
    assert chunks[0] == "Endless Trail Shoe."  # the title alone, then title-prefixed passages
    assert all(c.startswith("Endless Trail Shoe. ") for c in chunks[1:])
    covered = " ".join(chunks)
    assert all(f"marker{i} " in covered for i in range(60))  # no text beyond the window is dropped
    assert kb.vectors.count("product") == len(chunks)
    # shorter text later: the extra chunks leave both stores
    row["description"] = "Short now."
    ingest_file(kb, "product", write_jsonl(tmp_path / "long.jsonl", [row]))
    assert kb.vectors.count("product") == 2
    views(kb)


# ----- interrupted ingests -------------------------------------------------------------------
def catalog(version: str, n: int = 4) -> list[dict]:
    return [{"id": f"I-{i}", "title": f"{version} widget {i}", "description": f"The {version} edition, item {i}."}
            for i in range(n)]


def fail_on_call(obj, name: str, call: int, monkeypatch) -> None:
    """Make `obj.name` raise on its `call`-th use only."""
    original = getattr(obj, name)
    count = {"n": 0}

    def wrapper(*args, **kwargs):
        count["n"] += 1
        if count["n"] == call:
            raise RuntimeError(f"simulated failure in {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, wrapper)


def assert_item_versions(kb, expect: dict[str, str]) -> None:
    """Each item is wholly at its expected version in records, FTS and vector search."""
    search = ProductSearch(kb)
    for item, version in expect.items():
        assert kb.store.get_product(item).title.startswith(version)
        fts = kb.store.db.execute("SELECT title, body FROM products_fts WHERE id = ?", [item]).fetchone()
        assert fts[0].startswith(version) and version in fts[1]
        assert item in search.search(f"{version} widget", top_k=10, mode="vector").ids()  # its vectors count
    views(kb)  # and they carry the same hash as the record


@pytest.mark.parametrize("where", ["sqlite", "chroma"])
def test_interrupted_ingest_leaves_items_old_or_new_and_a_rerun_repairs(kb, tmp_path, monkeypatch, where):
    monkeypatch.setattr(vectors_mod, "BATCH_ITEMS", 2)
    ingest_file(kb, "product", write_jsonl(tmp_path / "v1.jsonl", catalog("alpha")))
    v2 = write_jsonl(tmp_path / "v2.jsonl", catalog("beta"))
    if where == "sqlite":
        fail_on_call(kb.store, "write_items", 2, monkeypatch)
    else:
        fail_on_call(kb.vectors, "upsert", 2, monkeypatch)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_file(kb, "product", v2)
    assert_item_versions(kb, {"I-0": "beta", "I-1": "beta", "I-2": "alpha", "I-3": "alpha"})
    monkeypatch.undo()
    rerun = ingest_file(kb, "product", v2)
    assert (rerun.updated, rerun.unchanged) == (2, 2)
    assert_item_versions(kb, {f"I-{i}": "beta" for i in range(4)})
    assert kb.store.get_meta("ingest_in_progress:product") is None


def test_killed_ingest_is_never_half_visible_and_a_rerun_repairs(kb, tmp_path, monkeypatch):
    """A kill between the vector and the record write leaves new vectors over old records."""
    monkeypatch.setattr(vectors_mod, "BATCH_ITEMS", 2)
    ingest_file(kb, "product", write_jsonl(tmp_path / "v1.jsonl", catalog("alpha")))
    fail_on_call(kb.store, "write_items", 2, monkeypatch)
    monkeypatch.setattr(vectors_mod, "_restore", lambda *a: None)  # as if the process died: no undo
    with pytest.raises(RuntimeError):
        ingest_file(kb, "product", write_jsonl(tmp_path / "v2.jsonl", catalog("beta")))
    monkeypatch.undo()
    search = ProductSearch(kb)
    vector_ids = search.search("beta widget", top_k=10, mode="vector").ids()
    assert sorted(vector_ids) == ["I-0", "I-1"]  # batch 2: records old, vectors new, so its vectors are ignored
    assert all(kb.store.get_product(f"I-{i}").title.startswith("alpha") for i in (2, 3))
    # a rerun of the OLD file must still re-embed the items whose vectors are stale
    rerun = ingest_file(kb, "product", write_jsonl(tmp_path / "v1.jsonl", catalog("alpha")))
    assert (rerun.updated, rerun.unchanged) == (4, 0)
    assert "repaired 2 items" in " ".join(rerun.notes)
    assert_item_versions(kb, {f"I-{i}": "alpha" for i in range(4)})


@pytest.mark.parametrize("sort, pick", [("price_asc", min), ("price_desc", max)])
def test_a_query_with_no_words_sorted_by_price_spans_the_whole_catalog(demo_kb, sort, pick):
    """"your cheapest product": the cheapest of every product, not of the best rated ones."""
    from knowledge.search import ProductSearch
    prices = [p.price for p in demo_kb.store.all_products() if p.price is not None]
    hits = ProductSearch(demo_kb).search("", sort=sort, top_k=5).hits
    shown = [h.product.price for h in hits]
    assert shown[0] == pick(prices)
    assert shown == sorted(prices, reverse=sort == "price_desc")[:5]
