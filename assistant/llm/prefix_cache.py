"""Saved llama.cpp context states of fixed prompt prefixes (a system prompt and its worked examples).

llama.cpp already skips the part of a prompt its context holds from the previous call. That breaks as soon as
another kind of call runs in between (a SQL question, the condensing of a follow-up): the next answer then
reads its whole system prompt and examples again (~450 tokens, ~5 s on 2 cores). Here the context state right
after each prefix is kept (~30 KB per token of KV cache, no logits) and put back before a prompt that starts
with it. llama-cpp-python's own LlamaRAMCache keeps whole prompts with their logits (~300 MB a state) and is
not used.
"""

import ctypes
from collections import OrderedDict
from typing import Any


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class PrefixStates:
    """The context states of up to `capacity` prefixes, least recently used dropped first."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.restored = 0  # counters for benches and tests
        self.saved = 0

    def __len__(self) -> int:
        return len(self._states)

    def prepare(self, llama: Any, prefix: list[int]) -> None:
        """Leave `llama`'s context holding `prefix` at its start: kept as it is, put back from a saved state,
        or read once and saved. The call that follows then reads only what comes after the prefix."""
        if self.capacity <= 0 or not prefix:
            return
        live = llama.input_ids[: llama.n_tokens].tolist()
        if common_prefix(live, prefix) == len(prefix):
            return
        key = tuple(prefix)
        if key in self._states:
            self._states.move_to_end(key)
            self._restore(llama, prefix, self._states[key])
            return
        llama.n_tokens = common_prefix(live, prefix)  # keep what the context shares with the prefix
        llama.eval(prefix[llama.n_tokens :])  # eval drops the context's cells from n_tokens onwards first
        self._states[key] = _state_bytes(llama)
        self.saved += 1
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def _restore(self, llama: Any, prefix: list[int], state: bytes) -> None:
        import llama_cpp

        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(state)) != len(state):
            raise RuntimeError("llama.cpp refused a saved prefix state")
        llama.input_ids[: len(prefix)] = prefix
        llama.n_tokens = len(prefix)
        llama._requires_eval = True  # the logits are not restored: the prompt's rest is decoded before sampling
        self.restored += 1


def _state_bytes(llama: Any) -> bytes:
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    written = llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size)
    return bytes(buffer[: int(written)])
