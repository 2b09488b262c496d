"""An OpenAI-compatible chat model that masks personal data in every message before it leaves the machine."""

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from assistant.policy.pii import mask_text


def masked_messages(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Copies of the messages with ID, phone, e-mail, card and SSN values replaced in text content."""
    out = []
    for message in messages:
        if isinstance(message.content, str):
            out.append(message.model_copy(update={"content": mask_text(message.content)[0]}))
        else:
            out.append(message)
    return out


class MaskingChatOpenAI(ChatOpenAI):
    """ChatOpenAI whose requests carry masked text: prompts hold retrieved passages and table samples."""

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return super()._generate(masked_messages(messages), stop, run_manager, **kwargs)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from super()._stream(masked_messages(messages), stop, run_manager, **kwargs)
