"""`shopguide vectors upload`: copy the embedded Chroma store's vectors to the server at SHOPGUIDE_CHROMA_URL."""

from __future__ import annotations

import argparse
import sys

from shopguide.errors import NotConfigured


def add_parser(sub) -> None:
    """Register `shopguide vectors`."""
    p = sub.add_parser("vectors", help="copy the embedded vector store to the Chroma server",
                       description="upload: copy every vector, id and content hash of the embedded store in the data "
                                   "directory to the Chroma server at SHOPGUIDE_CHROMA_URL (nothing is embedded again; "
                                   "run it again at will).")
    p.add_argument("action", choices=["upload"])
    p.set_defaults(func="shopguide.cli.vectorscli:main")


def main(args: argparse.Namespace) -> int:
    """Entry point of `shopguide vectors`."""
    from knowledge.vector_server import copy_index, remote_index
    from knowledge.vectors import VectorIndex
    from shopguide.cli.startup import start

    settings = start(args, stderr_level="WARNING")
    if not settings.chroma_url:
        raise NotConfigured("set SHOPGUIDE_CHROMA_URL to the Chroma server to upload to")
    if not settings.chroma_dir.is_dir():
        raise NotConfigured(f"no embedded vector store at {settings.chroma_dir} (SHOPGUIDE_DATA_DIR)")
    token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
    copied = copy_index(VectorIndex(settings.chroma_dir), remote_index(settings.chroma_url, token))
    for kind, n in copied.items():
        print(f"{kind}: {n} vectors")
    if not copied:
        print("the embedded store holds no vectors", file=sys.stderr)
    return 0
