"""Loaders, chunkers and the incremental pipeline that fills the store. Knows nothing about answering."""
