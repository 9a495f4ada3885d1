"""The store's knowledge: ingestion, canonical records, embeddings and retrieval."""
