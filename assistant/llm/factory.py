"""The one chat-model factory: embedded llama.cpp by default, an OpenAI-compatible server in production."""

import os

from langchain_core.language_models import BaseChatModel

from assistant.llm.model_file import check_model_file, verified_model
from core.errors import GovDataError
from core.settings import LlmSettings


def build_chat_model(settings: LlmSettings, models_dir: "os.PathLike[str] | str") -> BaseChatModel:
    if settings.provider == "openai":
        from assistant.llm.masking import ServerChatOpenAI

        if not settings.base_url:
            raise GovDataError("GOVDATA_LLM__BASE_URL is required when GOVDATA_LLM__PROVIDER=openai")
        api_key = os.environ.get(settings.api_key_env) or "not-needed"
        check_server(settings.base_url, api_key, settings.api_key_env)
        return ServerChatOpenAI(
            mask_pii=settings.mask_pii, base_url=settings.base_url, model=settings.model, api_key=api_key,  # type: ignore[arg-type]
            temperature=settings.temperature, max_tokens=settings.max_tokens,  # type: ignore[call-arg]
            timeout=settings.timeout_s, max_retries=settings.retries,
        )
    from pathlib import Path

    from assistant.llm.embedded import EmbeddedChatModel

    path = (check_model_file(settings.model_path, settings.model_sha256) if settings.model_path
            else verified_model(Path(models_dir)))
    return EmbeddedChatModel(
        model_path=str(path), model_id=settings.model if settings.model_path else "qwen2.5-coder-1.5b-instruct-q4_k_m",
        n_ctx=settings.n_ctx, n_threads=settings.n_threads, n_threads_batch=settings.n_threads_batch,
        max_tokens=settings.max_tokens, temperature=settings.temperature, prefix_cache=settings.prefix_cache,
    )


def check_server(base_url: str, api_key: str, key_env: str, timeout_s: float = 5.0) -> None:
    """One request to the server's model list before any question: a server that is down, or refuses the key,
    is one clear line naming its URL now rather than a timeout in the middle of an answer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base_url.rstrip("/") + "/models", headers={"Authorization": f"Bearer {api_key}"})
    try:
        urllib.request.urlopen(request, timeout=timeout_s).close()  # noqa: S310  (http(s) URL from the settings)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise GovDataError(f"the model server at {base_url} refused the API key ({key_env}): HTTP {exc.code}"
                               ) from None
        # any other answer (404 on servers without /models) means it is up
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GovDataError(f"the model server at {base_url} is not reachable ({reason}); check "
                           "GOVDATA_LLM__BASE_URL") from None


def model_id(model: BaseChatModel) -> str:
    return str(getattr(model, "model_id", None) or getattr(model, "model_name", None) or type(model).__name__)
