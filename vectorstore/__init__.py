"""Embedding models (bundled, offline) and the Chroma-backed store."""
