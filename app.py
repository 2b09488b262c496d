"""The web app's entry point: `python app.py` serves it on 127.0.0.1:7860 (`govdata serve` takes --host and
--port). The page and its handlers live in assistant/ui/ (one module per tab); every decision (access,
routing, guard, answers, receipts) is made by the use cases in assistant/services.py."""

from assistant.config import Settings
from assistant.ui.layout import auth_for, build_assistant, build_ui, launch

__all__ = ["auth_for", "build_assistant", "build_ui", "launch"]

if __name__ == "__main__":
    launch(build_assistant(Settings()), "127.0.0.1", 7860)
