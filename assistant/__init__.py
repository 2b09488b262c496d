"""GovData Assistant: answers over public catalogs, policies and approved tables."""

__version__ = "0.1.0"
