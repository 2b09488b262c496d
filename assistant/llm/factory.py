"""The one chat-model factory: embedded llama.cpp by default, an OpenAI-compatible server in production."""

import os

from langchain_core.language_models import BaseChatModel

from assistant.config import LlmSettings
from assistant.errors import GovDataError
from assistant.llm.model_file import check_model_file, verified_model


def build_chat_model(settings: LlmSettings, models_dir: "os.PathLike[str] | str") -> BaseChatModel:
    if settings.provider == "openai":
        from langchain_openai import ChatOpenAI

        from assistant.llm.masking import MaskingChatOpenAI

        if not settings.base_url:
            raise GovDataError("GOVDATA_LLM__BASE_URL is required when GOVDATA_LLM__PROVIDER=openai")
        api_key = os.environ.get(settings.api_key_env) or "not-needed"
        model_class = MaskingChatOpenAI if settings.mask_pii else ChatOpenAI
        return model_class(
            base_url=settings.base_url, model=settings.model, api_key=api_key,  # type: ignore[arg-type]
            temperature=settings.temperature, max_tokens=settings.max_tokens,  # type: ignore[call-arg]
            timeout=settings.timeout_s, max_retries=1,
        )
    from pathlib import Path

    from assistant.llm.embedded import EmbeddedChatModel

    path = (check_model_file(settings.model_path, settings.model_sha256) if settings.model_path
            else verified_model(Path(models_dir)))
    return EmbeddedChatModel(
        model_path=str(path), model_id=settings.model if settings.model_path else "qwen2.5-coder-1.5b-instruct-q4_k_m",
        n_ctx=settings.n_ctx, n_threads=settings.n_threads, n_threads_batch=settings.n_threads_batch,
        max_tokens=settings.max_tokens, temperature=settings.temperature,
    )


def model_id(model: BaseChatModel) -> str:
    return str(getattr(model, "model_id", None) or getattr(model, "model_name", None) or type(model).__name__)
