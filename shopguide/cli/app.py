"""The composition root: builds every service once from the settings and wires them together."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from importlib import resources
from pathlib import Path

from bot.context import Services
from bot.core import Assistant
from bot.grounding import GroundingCheck
from bot.handoff import Handoffs
from bot.handoff_store import HandoffStore
from bot.memory import Memory
from bot.recommend import Recommender
from bot.slots import Vocabulary
from bot.names import CatalogNames
from bot.runtime import Runtime
from knowledge.spelling import Speller, default_word_list, read_word_list
from bot.storefront import Storefront, build_storefront
from bot.understanding import IntentClassifier, load_examples
from bot.understanding.attributes import load_orders
from bot.understanding.words import bundled_detector
from bot.writer import Writer
from knowledge import multilingual
from knowledge.catalog_profile import catalog_profile, catalog_words
from knowledge.kinds import KindFinder
from knowledge.base import KnowledgeBase
from knowledge.currency import dominant_currency
from knowledge.evidence import EvidenceRetriever
from knowledge.faq import FaqMatcher
from knowledge.ingest import IngestReport, Progress, embeddings_current, ingest_file, refresh_embeddings
from knowledge.search import ProductSearch
from knowledge.synonyms import Thesaurus, ingest_synonyms, open_thesaurus
from models.embedder import SentenceEmbedder
from models.base import Embedder
from models.e5 import E5Embedder, default_document_embedder_path
from models.resolve import resolve_embedder, resolve_faq_embedder
from models.worker import ModelWorker
from shopguide.errors import NotConfigured
from shopguide.settings import Settings

log = logging.getLogger(__name__)

DEMO_FILES = (("product", "products.jsonl"), ("faq", "faqs.jsonl"), ("document", "documents.jsonl"))
DEMO_SYNONYMS = "synonyms.txt"  # the demo store's names for its kinds in the other languages it serves


def prepare_environment() -> None:
    """Process-wide switches for offline operation; call before loading any model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def demo_dir() -> Path:
    """Directory of the bundled demo store."""
    return Path(str(resources.files("shopguide") / "demo"))


def open_knowledge(settings: Settings) -> KnowledgeBase:
    """The knowledge base in the configured data directory, with a lazily loaded embedder."""
    prepare_environment()
    vectors = None
    if settings.chroma_url:  # a Chroma server instead of the embedded store
        from knowledge.vector_server import remote_index

        token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
        vectors = remote_index(settings.chroma_url, token)
    return KnowledgeBase(settings.data_dir, *open_embedders(settings), vectors=vectors, records=settings.catalog_target)


def open_embedders(settings: Settings) -> tuple[SentenceEmbedder, Embedder | None, Embedder | None]:
    """The embedding model, then the FAQ matcher's and the documents' own models (None: they use the first)."""
    embedder = SentenceEmbedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                                threads=settings.embedding_threads)
    faq = _own_model(settings, embedder, resolve_faq_embedder(settings.faq_embedding_model),
                     "SHOPGUIDE_FAQ_EMBEDDING_MODEL")
    return embedder, faq, open_document_embedder(settings, embedder)


def open_document_embedder(settings: Settings, embedder: SentenceEmbedder) -> Embedder | None:
    """The configured sentence-transformers model for documents, else the bundled e5, else None."""
    setting = "SHOPGUIDE_DOCUMENT_EMBEDDING_MODEL"
    if settings.document_embedding_model:
        return _own_model(settings, embedder, resolve_embedder(settings.document_embedding_model, setting), setting)
    e5 = default_document_embedder_path()
    return E5Embedder(e5, threads=settings.embedding_threads) if e5 is not None else None


def _own_model(settings: Settings, embedder: SentenceEmbedder, path: Path | None, setting: str) -> SentenceEmbedder | None:
    """A kind's own sentence-transformers model at `path`; None when there is none or it is the embedding model."""
    if path is None or path.resolve() == embedder.path.resolve():
        return None
    return SentenceEmbedder(path, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads,
                            setting=setting)


def load_chat_model(settings: Settings):
    """The configured chat model: on the model server at SHOPGUIDE_LLM_URL, else the GGUF file in-process
    (raises NotConfigured with the file and setting on failure)."""
    if settings.llm_url:
        from models.remote import RemoteChatModel

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return RemoteChatModel(settings.llm_url, api_key=key, model=settings.llm_model_name,
                               temperature=settings.llm_temperature, timeout_s=settings.llm_timeout_s + 1.0)
    from models.llama import LlamaChatModel

    return LlamaChatModel(settings.llm_model_path, n_ctx=settings.llm_n_ctx, n_threads=settings.llm_n_threads,
                          temperature=settings.llm_temperature)


def build_vocabulary(kb: KnowledgeBase, attributes_file: Path | None = None) -> Vocabulary:
    """The catalog's own words for the understanding layer."""
    found = catalog_words(kb.store)
    words = Vocabulary.from_catalog(found.vocabulary, found.type_category, found.flags, found.genders, found.attributes)
    if attributes_file is not None:
        words.orders = load_orders(_store_file(attributes_file, "SHOPGUIDE_ATTRIBUTES_FILE"))
    return words


def storefront_from_catalog(kb: KnowledgeBase, description: str | None, lang: str = "en") -> Storefront:
    """The shop's wording and example buttons: the configured description, else its largest categories."""
    p = catalog_profile(kb.store, lang)
    return build_storefront(description=description, categories=p.categories, types=p.types, brands=p.brands,
                            sizes=p.sizes, median_price=p.median_price, faq_question=p.faq_question,
                            currency=dominant_currency(p.currencies))


def build_runtime(
    settings: Settings,
    *,
    load_llm: bool | None = None,
    kb: KnowledgeBase | None = None,
    worker: ModelWorker | None = None,
    memory_path: Path | None = None,
    memory: Memory | None = None,
) -> Runtime:
    """Open the stores, load the models once and build the assistant.

    `kb` and `worker` let several runtimes (tests, benchmarks) share one loaded model; `memory` (or `memory_path`)
    one opened elsewhere (a benchmark's throwaway schema on the database server).
    """
    owned: set[str] = set()
    if kb is None:
        kb = open_knowledge(settings)
        owned.add("kb")
    for kind in ("faq", "document"):  # kinds with a model of their own, which may have changed since ingest
        refresh_embeddings(kb, kind)
    multilingual.sync(kb, kb.document_embedder, settings.multilingual_vectors)  # only what changed since the last
    memory = memory or Memory(memory_path or settings.memory_target)
    use_llm = settings.llm_enabled if load_llm is None else load_llm
    if worker is None and use_llm and (load_llm or settings.chat_model_needed):
        worker = ModelWorker(load_chat_model(settings))
        owned.add("worker")
    names = [p.title for p in kb.store.all_products()] + kb.store.vocabulary()["brands"]
    storefront = storefront_from_catalog(kb, settings.store_description, settings.catalog_language)
    writer = Writer(worker if use_llm else None, GroundingCheck(names), max_tokens=settings.llm_max_tokens,
                    timeout=settings.llm_timeout_s, context_tokens=settings.llm_n_ctx, seller=storefront.seller,
                    sentences=settings.llm_connecting_sentence)
    vocab = build_vocabulary(kb, settings.attributes_file)
    services = Services(
        settings=settings, kb=kb, search=ProductSearch(kb, catalog_language=settings.catalog_language), faq=FaqMatcher(kb), evidence=EvidenceRetriever(kb),
        memory=memory, writer=writer, vocab=vocab, recommender=Recommender(kb, memory, customer_of=_linked_customer(kb)),
        storefront=storefront, names=CatalogNames(kb.store), speller=open_speller(settings, kb),
        thesaurus=open_store_thesaurus(settings, kb), intents=open_intent_classifier(settings, kb),
        language=bundled_detector(),
        handoffs=Handoffs.build(HandoffStore(memory.db, memory.lock), settings),
        kinds=KindFinder(kb, vocab.types, vocab.type_category),
    )
    start_order_model(services.recommender, kb, settings)
    return Runtime(settings=settings, kb=kb, memory=memory, assistant=Assistant(services), services=services,
                   worker=worker if use_llm else None, owned=owned)


def _linked_customer(kb: KnowledgeBase):
    """The `/link` lookup of chat user → order-history customer, when the store keeps orders."""
    orders = getattr(kb.store, "orders", None)
    return getattr(orders, "linked_customer", None)


def start_order_model(recommender: Recommender, kb: KnowledgeBase, settings: Settings) -> threading.Thread | None:
    """Load (or train, then cache) the order-history model in the background; call again after `ingest orders`.

    Until it is ready the recommender uses the in-chat signals alone; a failure is logged, never raised.
    """
    if getattr(kb.store, "order_lines", None) is None:
        return None
    from knowledge.recommend_orders import orders_from_store

    def work() -> None:
        try:
            model = orders_from_store(kb.store, settings.cache_dir)
            if model is not None:  # no orders: keep whatever the recommender has
                recommender.use_orders(model)
        except Exception:
            log.exception("the order-history recommendation model could not be built; using in-chat signals only")

    thread = threading.Thread(target=work, name="order-model", daemon=True)
    thread.start()
    return thread


def _store_file(path: Path, setting: str) -> Path:
    """A data file the store configured: missing, start-up stops naming the setting."""
    if not Path(path).is_file():
        raise NotConfigured(f"{path} does not exist (setting {setting})")
    return Path(path)


def open_intent_classifier(settings: Settings, kb: KnowledgeBase) -> IntentClassifier:
    """The intent classifier, trained on the bundled examples and the store's own (vectors cached in the data dir)."""
    extra = _store_file(settings.examples_file, "SHOPGUIDE_EXAMPLES_FILE") if settings.examples_file else None
    examples = load_examples(extra)  # a bad line of the store's file is logged with file:line
    e5 = kb.document_embedder if isinstance(kb.document_embedder, E5Embedder) else None
    if e5 is not None:
        embed, one, name = e5.encode_queries, e5.encode_query, f"e5:{e5.path.name}"
    else:
        embed, one, name = kb.embedder.encode, kb.embedder.encode_query, f"st:{kb.embedder.path}"
    classifier = IntentClassifier(examples, embed, embed_one=one, cache_dir=settings.cache_dir / "intents", model_name=name)
    return classifier.fit()


def open_speller(settings: Settings, kb: KnowledgeBase) -> Speller | None:
    """Typo correction, with the configured word list, else pyspellchecker's English list, else the embedding
    model's vocab.txt; None when off or when there is no list."""
    if not settings.spelling_correction:
        return None
    path = settings.spelling_words
    if path is None:
        model_dir = getattr(kb.embedder, "path", None)
        path = default_word_list() or (Path(model_dir) / "vocab.txt" if model_dir else None)
        if path is None or not path.is_file():
            log.info("typo correction is off: no English word list (set spelling_words)")
            return None
    elif not Path(path).is_file():
        raise NotConfigured(f"word list {path} does not exist (setting SHOPGUIDE_SPELLING_WORDS)")
    return Speller(kb.store, read_word_list(Path(path)))


def open_store_thesaurus(settings: Settings, kb: KnowledgeBase) -> Thesaurus | None:
    """The bundled synonyms plus the store's own (those it was given by `ingest synonyms`, then its
    SHOPGUIDE_SYNONYMS_FILE); None when off."""
    if not settings.synonyms:
        return None
    path = settings.synonyms_file
    if path is not None and not path.is_file():
        raise NotConfigured(f"synonyms file {path} does not exist (setting SHOPGUIDE_SYNONYMS_FILE)")
    return open_thesaurus(kb.store, path)


def demo_digest() -> str:
    """Hash of the bundled demo files, to skip re-reading them when nothing changed."""
    h = hashlib.sha256()
    for name in (*(name for _, name in DEMO_FILES), DEMO_SYNONYMS):
        h.update((demo_dir() / name).read_bytes())
    return h.hexdigest()


def load_demo_store(kb: KnowledgeBase, progress: Progress | None = None, *, force: bool = False) -> list[IngestReport]:
    """Ingest the bundled demo store; a no-op when the same demo files were loaded before."""
    digest = demo_digest()
    current = all(embeddings_current(kb, kind) for kind, _ in DEMO_FILES)
    if not force and current and kb.store.get_meta("demo_digest") == digest and kb.store.count("product") > 0:
        return []
    # pruning is safe only when the store holds nothing but an earlier demo
    prune = kb.store.get_meta("demo_digest") is not None or kb.store.count("product") == 0
    reports = [ingest_file(kb, kind, demo_dir() / name, progress=progress, prune=prune) for kind, name in DEMO_FILES]
    reports.append(ingest_synonyms(kb.store, demo_dir() / DEMO_SYNONYMS))
    kb.store.set_meta("demo_digest", digest)
    return reports
