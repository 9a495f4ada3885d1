"""Telling a message in another language from English, so the reply can say in that language that
the assistant speaks English only, instead of declining in English."""

from __future__ import annotations

import re

# Words that are common in each language's shopping questions and are not English words (nor
# common in English product names): "die", "was", "also", "son", "con" and the like are left out.
_WORDS = {
    "de": "ich und der das den dem nicht ist sind ein eine einen einem einer für fuer mit suche suchen haben habt "
          "habe sie wie viel kostet kosten bitte gibt mir mein meine meinen welche welcher welches auch noch oder "
          "aber kann können koennen möchte moechte brauche schuhe jacke zelt danke größe groesse preis wo wann "
          "warum rückgabe versand zurückgeben bestellung lieferung zum zur vom über unter gibt's keine kein "
          "hallo guten tag wanderschuhe günstiger billiger",
    "fr": "je cherche des les pour avec est une combien coûte coute vous avez moi mon mes bonjour merci "
          "chaussures veste quel quelle quels où comment pourquoi livraison retour taille prix le du au aux et "
          "pas il elle sont peux puis voudrais besoin cette moins cher",
    "es": "busco buscando para los las una cuánto cuanto cuesta cuestan quiero tienen tienes gracias el por favor "
          "zapatos botas chaqueta talla precio envío envio devolución devolucion dónde donde cómo qué necesito hay "
          "mi hola más barato",
    "it": "cerco per gli sono quanto costa vorrei il della delle che non è scarpe scarponi giacca taglia prezzo "
          "spedizione reso grazie dove perché ho hai avete bisogno buongiorno ciao economico",
    "nl": "ik zoek een voor met het niet hoeveel kost jullie hebben schoenen jas maat prijs verzending bedankt "
          "waar hoe wat mijn graag wil zijn ook goedkoper",
    "pt": "procuro para com uma quanto custa obrigado obrigada você vocês sapatos jaqueta tamanho preço envio "
          "devolução onde como não tem têm eu meu minha preciso olá barato",
}
_LANG_WORDS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
_ENGLISH = frozenset(
    "the and i you is are for with a an do does what how can my me it this that in on of to have has under "
    "cheaper show want need looking find please any some your which where when who why much many there "
    "boots shoes jacket tent size price return order delivery".split())
_TOKEN = re.compile(r"[a-zäöüßàâçéèêëîïôûùÿñæœáíóúã']+")

NOTICES = {
    "de": "Entschuldigung, ich kann bisher nur auf Englisch helfen.",
    "fr": "Désolé, je ne peux aider qu'en anglais pour le moment.",
    "es": "Lo siento, por ahora solo puedo ayudar en inglés.",
    "it": "Mi dispiace, per ora posso aiutare solo in inglese.",
    "nl": "Sorry, ik kan voorlopig alleen in het Engels helpen.",
    "pt": "Desculpe, por enquanto só posso ajudar em inglês.",
}


def other_language(text: str) -> str | None:
    """The code of the language `text` is clearly written in ("de", "fr", ...) when it is not English, else None."""
    words = set(_TOKEN.findall((text or "").lower()[:2000]))
    if len(words) < 2:
        return None
    english = len(words & _ENGLISH)
    hits = {lang: len(words & vocab) for lang, vocab in _LANG_WORDS.items()}
    lang, best = max(hits.items(), key=lambda kv: kv[1])
    if best >= 2 and best > 2 * english and best * 3 >= len(words):
        return lang
    return None
