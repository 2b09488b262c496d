"""Process-wide offline switches, set before any model library is imported."""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    """Make hub clients fail fast instead of trying the network; our users are offline."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["HF_HUB_OFFLINE"] = "1"
