"""Which language a message is written in: one of the five understood, another one, or not to be told.

Three signals, none of them a phrase rule: the script (Han is Chinese; Cyrillic, Arabic, Hebrew, kana,
Hangul and the like are languages outside the five), the words of our own example and word files
(a word that only one language's files use is evidence for it), and lingua's statistical detector,
which also knows languages we do not understand. A message too short or too mixed to tell (a SKU,
"ok", a brand, a number) gives no language, and the conversation keeps the one it had.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

SUPPORTED = ("en", "de", "fr", "es", "zh")
# Each language's own name, for "/language" and for the note to a customer writing another language.
NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "zh": "中文"}
# Languages lingua weighs besides ours, so that a message in one of them is recognised as such.
_OTHERS = ("ITALIAN", "DUTCH", "PORTUGUESE", "POLISH", "RUSSIAN", "ARABIC", "HEBREW", "JAPANESE", "KOREAN",
           "TURKISH", "SWEDISH", "DANISH", "BOKMAL", "FINNISH", "CZECH", "GREEK", "UKRAINIAN", "ROMANIAN",
           "HUNGARIAN", "VIETNAMESE", "INDONESIAN", "HINDI", "THAI", "PERSIAN")
_OURS = {"ENGLISH": "en", "GERMAN": "de", "FRENCH": "fr", "SPANISH": "es", "CHINESE": "zh"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")


@dataclass(frozen=True)
class Detected:
    """A message's language: `lang` one of SUPPORTED, or `other` (an ISO 639-1 code) outside them, or neither."""

    lang: str | None = None
    other: str | None = None
    guess: str | None = None  # undecided: the likeliest of the five, for a message that reads as nothing in English


def _scripts(text: str) -> Counter[str]:
    """Letters by script ("LATIN", "CJK", "CYRILLIC", ...), from their Unicode names."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            counts["CJK" if _HAN.match(ch) else name.split(" ")[0] if name else "?"] += 1
    return counts


def words_of(texts: Iterable[str]) -> set[str]:
    """The lower-case words of `texts` (letters only)."""
    out: set[str] = set()
    for t in texts:
        out.update(_WORD.findall(t.lower()))
    return out


class LanguageDetector:
    """Tells the language of a message from its script, our data's words and lingua; thread-safe."""

    def __init__(self, words: Mapping[str, set[str]] | None = None, *, statistical: bool = True) -> None:
        words = {lang: set(ws) for lang, ws in (words or {}).items() if lang in SUPPORTED}
        seen: Counter[str] = Counter(w for ws in words.values() for w in ws)
        # a word only one language's files use is evidence for that language
        self.distinctive = {lang: frozenset(w for w in ws if seen[w] == 1 and len(w) > 1) for lang, ws in words.items()}
        self.known = frozenset(seen)
        self._statistical = statistical
        self._lingua = None
        self._lock = threading.Lock()

    def _build(self, names: tuple[str, ...], *, low: bool):
        from lingua import Language, LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_languages(*[getattr(Language, n) for n in names if hasattr(Language, n)])
        return (builder.with_low_accuracy_mode() if low else builder).build()

    def _detectors(self):
        """lingua over our five in high accuracy (about 120 MB), and over the common others in low (about 40 MB)."""
        if self._lingua is None and self._statistical:
            with self._lock:
                if self._lingua is None:
                    try:
                        self._lingua = (self._build(tuple(_OURS), low=False), self._build((*_OURS, *_OTHERS), low=True))
                    except Exception:  # the detector is a help, not a requirement: words and scripts still decide
                        log.warning("lingua could not be loaded; languages are told by script and words only", exc_info=True)
                        self._statistical = False
        return self._lingua

    def _statistics(self, text: str, *, wide: bool = False) -> list[tuple[str, float]]:
        """lingua's two most likely languages as (ISO code, confidence): among ours, or among all it weighs."""
        detectors = self._detectors()
        if detectors is None:
            return []
        values = detectors[1 if wide else 0].compute_language_confidence_values(text)[:2]
        return [(_OURS.get(v.language.name) or v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values]

    def detect(self, text: str) -> Detected:
        """The language of `text` (at most its first 1,000 characters)."""
        text = (text or "")[:1000]
        scripts = _scripts(text)
        letters = sum(scripts.values())
        if not letters:
            return Detected()
        main, count = scripts.most_common(1)[0]
        if main == "CJK" or (scripts["CJK"] and scripts["CJK"] >= 2):
            if _KANA.search(text):
                return Detected(other="ja")
            return Detected(lang="zh")
        if main != "LATIN" and count >= 2:
            stats = self._statistics(text, wide=True)
            return Detected(other=stats[0][0] if stats and stats[0][1] >= 0.5 else main.lower()[:2])
        words = _WORD.findall(text.lower())
        if not words:
            return Detected()
        hits = {lang: sum(1 for w in words if w in ws) for lang, ws in self.distinctive.items()}
        ranked = sorted(hits.items(), key=lambda kv: -kv[1])
        best, best_hits = ranked[0] if ranked else (None, 0)
        second_hits = ranked[1][1] if len(ranked) > 1 else 0
        ours = self._statistics(text) if len(text) >= 3 else []
        top, confidence = ours[0] if ours else (None, 0.0)
        unknown = sum(1 for w in words if w not in self.known)
        if len(words) >= 3 and best_hits <= 1 and confidence < 0.9 and unknown * 2 > len(words):
            wide = self._statistics(text, wide=True)
            if wide and wide[0][0] not in SUPPORTED and wide[0][1] >= 0.8:
                return Detected(other=wide[0][0])  # "Preciso de uma jaqueta": one shared-looking word is no evidence
        if len(words) == 1:  # one word ("ok", a brand, "XL", "Stirnlampe"): only when the statistics are sure
            known_elsewhere = words[0] in self.known and words[0] not in self.distinctive.get(top or "", ())
            return Detected(lang=top) if top and confidence >= 0.7 and not known_elsewhere else Detected(guess=top)
        if best_hits and best_hits > second_hits:
            if top != best and confidence >= 0.9 and len(words) >= 3 and hits.get(top, 0) >= best_hits - 1:
                return Detected(lang=top)  # the statistics are sure, our words nearly even
            return Detected(lang=best)
        if top and confidence >= 0.6:
            return Detected(lang=top)
        return Detected(guess=top)


def choose(detected: Detected, kept: str | None, hint: str | None) -> str:
    """The language to answer in: the message's own, else the conversation's, else the platform's hint, else English."""
    if detected.lang:
        return detected.lang
    if kept in SUPPORTED:
        return kept
    base = (hint or "").replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else "en"
