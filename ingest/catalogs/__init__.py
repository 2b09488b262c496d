"""Catalog loaders: each turns one source file into Dataset records."""
