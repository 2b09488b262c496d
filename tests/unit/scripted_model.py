"""A chat model that replies from a script, for control-flow tests of generation (never a feature's proof)."""

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ScriptedModel(BaseChatModel):
    """Replies in order and records every prompt it was shown."""

    replies: list[str]
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    sampling: list[dict[str, Any]] = Field(default_factory=list)  # the call options of each reply

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self.seen.append(messages)
        self.sampling.append({k: v for k, v in kwargs.items() if k in ("temperature", "seed", "response_format")})
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.replies.pop(0)))])


def reply(sql: str, explanation: str = "Counts permits.") -> str:
    return json.dumps({"sql": sql, "explanation": explanation}, ensure_ascii=False)


def explained(explanation: str) -> str:
    """The reply to the follow-up that explains a query (a fixed-up one, or a chosen candidate)."""
    return json.dumps({"explanation": explanation}, ensure_ascii=False)
