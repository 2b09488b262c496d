"""The embedded chat model: llama.cpp in-process, as a LangChain `BaseChatModel`.

Built here rather than with langchain-community's ChatLlamaCpp, which forces rope_freq_base=10000 over the
GGUF's own 1,000,000 (output degrades) and ignores `stop` when streaming. The GGUF's chat template is used
as is; `response_format={"type": "json_object", "schema": ...}` turns on llama.cpp's grammar-constrained
JSON output. The context state after each kind of call's fixed prefix (system prompt and worked examples) is
kept (assistant/llm/prefix_cache.py), so calls of other kinds in between do not cost the next one its prefix.
"""

import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.llm.prefix_cache import PrefixStates, common_prefix
from assistant.llm.replies import fixed_prefix_length

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def to_chat_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class EmbeddedChatModel(BaseChatModel):
    """A GGUF model file run by llama-cpp-python, loaded once on first use."""

    model_path: str
    model_id: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    n_ctx: int = 4096
    n_threads: int = 2
    n_threads_batch: int = 2
    max_tokens: int = 512
    temperature: float = 0.0
    repeat_penalty: float = 1.1
    seed: int = 7
    prefix_cache: int = 4  # fixed prefixes whose context state is kept (0: off)
    _llama: Any = PrivateAttr(default=None)
    _formatters: dict[bool, Any] = PrivateAttr(default_factory=dict)
    _prefixes: PrefixStates | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "govdata-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch, seed=self.seed, verbose=False,
            )
        return self._llama

    @property
    def prefixes(self) -> PrefixStates:
        if self._prefixes is None:
            self._prefixes = PrefixStates(self.prefix_cache)
        return self._prefixes

    def prompt_tokens(self, messages: list[BaseMessage], *, generation_prompt: bool = True) -> list[int]:
        """The tokens the model reads for these messages, formatted and tokenized as llama-cpp-python's chat
        handler does (the GGUF's own chat template)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self._model()
        if generation_prompt not in self._formatters:
            text = llama._model.token_get_text
            self._formatters[generation_prompt] = Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"], eos_token=text(llama.token_eos()),
                bos_token=text(llama.token_bos()), add_generation_prompt=generation_prompt)
        prompt = self._formatters[generation_prompt](messages=to_chat_messages(messages)).prompt
        return list(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

    def warm(self, messages: list[BaseMessage]) -> None:
        """Load the model and read the fixed prefix of a kind of prompt ahead of the first question."""
        with self._lock:
            self._prepare(messages)

    def _prepare(self, messages: list[BaseMessage]) -> None:
        """Put the context state after this prompt's fixed prefix in place before the prompt is read."""
        fixed = fixed_prefix_length(messages)
        if self.prefix_cache <= 0 or fixed == 0 or fixed >= len(messages):
            return
        full = self.prompt_tokens(messages)
        head = self.prompt_tokens(messages[:fixed], generation_prompt=False)
        self.prefixes.prepare(self._model(), full[: common_prefix(head, full)])

    def cached_tokens(self, tokens: list[int]) -> int:
        """How many leading tokens of a prompt the model's context already holds (read again for free)."""
        llama = self._model()
        return int(llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens))

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        request = {
            "messages": to_chat_messages(messages), "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature), "stop": stop or [],
            "repeat_penalty": self.repeat_penalty,
        }
        if kwargs.get("response_format"):
            request["response_format"] = kwargs["response_format"]
        if kwargs.get("seed") is not None:  # repeatable sampling of SQL candidates
            request["seed"] = kwargs["seed"]
        return request

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        with self._lock:  # one llama.cpp context: one generation at a time
            self._prepare(messages)
            result = self._model().create_chat_completion(**self._request(messages, stop, **kwargs))
        text = result["choices"][0]["message"].get("content") or ""
        usage = result.get("usage", {})
        message = AIMessage(content=text, response_metadata={"model": self.model_id, "usage": usage})
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output={"usage": usage})

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            self._prepare(messages)
            for part in self._model().create_chat_completion(**self._request(messages, stop, **kwargs), stream=True):
                delta = part["choices"][0].get("delta", {}).get("content") or ""
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
