"""Keeping the message catalogs in step with the code: extract the message ids (Babel), write the .pot, update the .po files, check them.

    python -m bot.catalogs          # extract, write bot/locale/messages.pot, merge it into every .po, report gaps
    python -m bot.catalogs --check  # report gaps only (exit 1 when any)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, LOCALES, po_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "adapters")  # the packages whose texts customers read
POT = LOCALE_DIR / "messages.pot"
# Babel keyword specs: the argument positions holding the message id (and its plural).
KEYWORDS = {"tr": (2,), "ntr": (2, 3), "t": None, "tn": (1, 2), "N_": None}
_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[:!][^}]*)?\}")


def placeholders(text: str) -> set[str]:
    """The `{named}` placeholders of a message."""
    return set(_PLACEHOLDER.findall(text))


def extract() -> Catalog:
    """Every message id the code asks for (with where), plus the clarifying offers of the intents file."""
    catalog = Catalog(domain=DOMAIN, project="shopguide", version="0.1", charset="utf-8")
    for package in SOURCES:
        found = extract_from_dir(str(ROOT / package), method_map=[("**.py", "python")], keywords=KEYWORDS,
                                 comment_tags=("TRANSLATORS:",), strip_comment_tags=True)
        for filename, lineno, message, comments, context in found:
            catalog.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments, context=context)
    from bot.understanding.examples import INTENTS_FILE, read_offers  # data, not code: the offers are shown too

    for intent, offer in sorted(read_offers().items()):
        catalog.add(offer, None, [(str(INTENTS_FILE.relative_to(ROOT)), 0)],
                    auto_comments=[f"the choice offered for the intent {intent!r}; keep {{what}} as it is"])
    return catalog


def read(lang: str) -> Catalog:
    """The stored catalog of `lang`."""
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=LOCALES[lang], domain=DOMAIN)


def problems(lang: str, wanted: Catalog) -> list[str]:
    """What the catalog of `lang` lacks for the ids in `wanted`: missing, fuzzy or empty entries, mismatched placeholders."""
    path = po_path(lang)
    if not path.exists():
        return [f"{lang}: no catalog at {path}"]
    catalog = read(lang)
    out = []
    for message in wanted:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        entry = catalog.get(ids[0])
        if entry is None:
            out.append(f"{lang}: missing {ids[0]!r}")
            continue
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        if entry.fuzzy or not all(strings):
            out.append(f"{lang}: untranslated {ids[0]!r}")
            continue
        names = set().union(*(placeholders(i) for i in ids))
        for string in strings:
            # a plural's forms may leave out the count ("只剩 {n} 件" keeps it; "one left" may not): {n} is optional there
            extra, lacking = placeholders(string) - names, names - placeholders(string) - ({"n"} if len(ids) > 1 else set())
            if extra or lacking:
                out.append(f"{lang}: placeholders of {ids[0]!r} differ: {string!r} (extra {sorted(extra)}, "
                           f"missing {sorted(lacking)})")
    return out


def update() -> list[str]:
    """Write the .pot and merge it into every language's .po (new ids come in untranslated); the gaps left."""
    template = extract()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as f:
        write_po(f, template, width=120, sort_output=True)
    gaps = []
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        if path.exists():
            catalog = read(lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=LOCALES[lang], domain=DOMAIN, project="shopguide", version="0.1")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as f:
            write_po(f, catalog, width=120, sort_output=True, omit_header=False)
        gaps += problems(lang, template)
    return gaps


def main(argv: list[str] | None = None) -> int:
    """Update (or only check) the catalogs and print what is missing."""
    args = sys.argv[1:] if argv is None else argv
    gaps = [p for lang in LANGUAGES[1:] for p in problems(lang, extract())] if "--check" in args else update()
    for gap in gaps:
        print(gap)
    print(f"{len(gaps)} gap(s) in {len(LANGUAGES) - 1} catalogs")
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
