"""The small error hierarchy shared by every layer.

Errors are caught at the edge (CLI, adapters); users see a short message, the log
gets the traceback.
"""

from __future__ import annotations


class ShopguideError(Exception):
    """Base class of every error raised on purpose by shopguide."""


class UserFacingError(ShopguideError):
    """An error whose message is safe and useful to show to the person asking."""


class NotConfigured(ShopguideError):
    """A required setting is missing or points at something unusable."""


class ModelError(ShopguideError):
    """The language or embedding model failed to load or run."""


class IngestError(ShopguideError):
    """A catalog file could not be ingested at all (not a single bad row)."""


class FeedError(IngestError):
    """A feed URL could not be read or held no usable catalog; the last good catalog stays."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report  # the ingest's report when the feed was read but nothing went in
