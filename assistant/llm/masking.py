"""The OpenAI-compatible chat model for model servers: personal data masked in every message before it leaves the
machine (when `mask_pii`), and a server that fails mid-question is one error line naming its URL."""

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from assistant.policy.pii import mask_text
from core.errors import GovDataError


def masked_messages(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Copies of the messages with ID, phone, e-mail, card and SSN values replaced in text content."""
    out = []
    for message in messages:
        if isinstance(message.content, str):
            out.append(message.model_copy(update={"content": mask_text(message.content)[0]}))
        else:
            out.append(message)
    return out


def server_error(exc: Exception, base_url: str) -> GovDataError:
    """What went wrong with the model server, in one line with its URL (never the key)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return GovDataError(f"the model server at {base_url} did not answer in time; try again, or raise "
                            "GOVDATA_LLM__TIMEOUT_S")
    if isinstance(exc, openai.APIConnectionError):
        return GovDataError(f"the model server at {base_url} is not reachable; check GOVDATA_LLM__BASE_URL")
    if isinstance(exc, openai.APIStatusError):
        return GovDataError(f"the model server at {base_url} refused the request: HTTP {exc.status_code}")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return GovDataError(f"the model server at {base_url} sent a reply that could not be read ({first[:160]})")


class ServerChatOpenAI(ChatOpenAI):
    """ChatOpenAI with masked requests (prompts hold retrieved passages and table samples) and readable errors."""

    mask_pii: bool = True

    def _messages(self, messages: list[BaseMessage]) -> list[BaseMessage]:
        return masked_messages(messages) if self.mask_pii else messages

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        try:
            return super()._generate(self._messages(messages), stop, run_manager, **kwargs)
        except Exception as exc:  # noqa: BLE001  (openai's and pydantic's errors become one line)
            raise server_error(exc, str(self.openai_api_base)) from exc

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        try:
            yield from super()._stream(self._messages(messages), stop, run_manager, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise server_error(exc, str(self.openai_api_base)) from exc
