"""The ground floor: what every other package stands on and nothing of ours stands under — settings, errors,
files, the offline switch, the access-level vocabulary, the records ingest produces and dates. It imports
nothing of ours (tests/unit/test_layers.py)."""
