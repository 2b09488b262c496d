"""The web app's entry point: `python app.py` serves it on 127.0.0.1:7860 (`govdata serve` takes --host and
--port). The page and its handlers live in assistant/ui/ (one module per tab); every decision (access,
routing, guard, answers, receipts) is made by the use cases in assistant/services.py."""

from assistant.ui.layout import build_ui
from assistant.ui.server import auth_for, build_assistant, launch
from core.settings import Settings

__all__ = ["auth_for", "build_assistant", "build_ui", "launch"]

if __name__ == "__main__":
    launch(build_assistant(Settings()), "127.0.0.1", 7860)
