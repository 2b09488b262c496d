"""Grounded answers: retrieve passages the role may see, decide from the evidence whether to answer, ask the
chat model for a cited JSON answer, and keep only citations of passages that were actually retrieved.

Whether to answer is decided from retrieval scores, not by the model: probing showed the 1.5B model almost
never says "not found" on its own.
"""

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.claims import check_claims
from assistant.excerpts import key_sentences
from assistant.llm.factory import model_id
from assistant.llm.replies import example_reply, parse_reply, response_format
from assistant.models import Answer, Citation
from core.settings import AnswerSettings
from ingest.documents.readers import date_in_name
from ingest.injection import defuse
from ingest.textutil import detect_language
from prompts import load_prompt
from vectorstore.retriever import Ranked

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {  # the answer first: with a flag first, small models settle it before reading
        "answer": {"type": "string", "maxLength": 500},  # bounded: the grammar then always closes the JSON
        "citations": {"type": "array", "items": {"type": "integer"}, "maxItems": 6},
    },
    "required": ["answer", "citations"],
}
_MARKER = re.compile(r"\s?\[(\d{1,2})\]")
_LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
_PASSAGE_CHARS = 600

Retrieve = Callable[[str, str], list[Ranked]]


def _source_name(payload: dict[str, Any]) -> str:
    """How a passage is named to the model and to the user: title and article (when it has one)."""
    return " ".join(p for p in (payload.get("title", ""), payload.get("article", "")) if p)


_ATTRIBUTE_BREAKS = re.compile(r"[<>\s]+")


def render_passages(ranked: Sequence[Ranked], question: str = "", budget: float | None = None) -> str:
    """Numbered, delimited passages, each cut to the sentences that matter to the question when it is longer
    than `budget` tokens. Passage tags and chat-template tokens in the text are defused (no passage can close
    its fence or open a turn); the source name loses quotes, brackets and line breaks."""
    blocks = []
    for n, item in enumerate(ranked, 1):
        source = _ATTRIBUTE_BREAKS.sub(" ", defuse(_source_name(item.hit.payload)).replace('"', "")).strip()
        text = item.hit.document[:_PASSAGE_CHARS]
        if budget is not None:
            text = key_sentences(text, question, budget)
        blocks.append(f'<passage n="{n}" source="{source}">\n{defuse(text)}\n</passage>')
    return "\n".join(blocks)


_ANSWER_START = re.compile(r'"answer"\s*:\s*"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "r": "", "b": "", "f": ""}


def partial_answer(reply: str) -> str | None:
    """The "answer" string of a JSON reply still being written (escapes decoded), or None before it starts."""
    match = _ANSWER_START.search(reply)
    if match is None:
        return None
    out, i = [], match.end()
    while i < len(reply):
        char = reply[i]
        if char == '"':
            break
        if char == "\\":
            if i + 1 >= len(reply):
                break
            code = reply[i + 1]
            if code == "u" and i + 6 <= len(reply):
                try:
                    out.append(chr(int(reply[i + 2 : i + 6], 16)))
                except ValueError:
                    pass
                i += 6
                continue
            if code == "u":
                break
            out.append(_ESCAPES.get(code, code))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def verify_citations(answer: str, cited: Sequence[Any], count: int) -> tuple[str, list[int]]:
    """Keep [n] markers and cited numbers that name a retrieved passage; drop the rest from the text."""
    valid = {n for n in cited if isinstance(n, int) and 1 <= n <= count}
    markers = {int(m) for m in _MARKER.findall(answer)}
    valid |= {n for n in markers if 1 <= n <= count}
    cleaned = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= count else "", answer).strip()
    return cleaned, sorted(valid)


def best_score(ranked: Sequence[Ranked]) -> float:
    """The strongest evidence among the passages, whatever their order (a named law's come first)."""
    return max(float(r.score) for r in ranked)


def closest_sources(ranked: Sequence[Ranked], limit: int = 3) -> list[str]:
    names: dict[str, None] = {}
    for item in ranked:
        names.setdefault(_source_name(item.hit.payload), None)
    return [name for name in names if name][:limit]


class Answerer:
    def __init__(self, retrieve: Retrieve, chat_model: BaseChatModel, settings: AnswerSettings,
                 json_mode: str = "json_object_schema") -> None:
        self.retrieve = retrieve
        self.chat_model = chat_model
        self.settings = settings
        self.json_mode = json_mode

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A follow-up rewritten as a standalone question, using the last few turns."""
        if not history:
            return question
        turns = "\n".join(f"User: {q}\nAssistant: {a[:300]}" for q, a in history[-3:])
        prompt = load_prompt("condense").render(history=turns, question=question)
        reply = str(self.chat_model.invoke([HumanMessage(prompt)], max_tokens=80, stop=["\n"]).content).strip()
        return reply.splitlines()[0].strip() if reply else question

    def messages(self, question: str, ranked: Sequence[Ranked], language: str) -> list[BaseMessage]:
        system = load_prompt("answer_system").render(language=_LANGUAGE_NAMES.get(language, "English"))
        examples: list[BaseMessage] = []
        for n in (1, 2):
            examples.append(HumanMessage(load_prompt(f"answer_example_{n}_user").render()))
            examples.append(example_reply(load_prompt(f"answer_example_{n}_assistant").render()))
        passages = render_passages(ranked, question, self.settings.passage_tokens or None)
        user = load_prompt("answer_user").render(passages=passages, question=question)
        return [SystemMessage(system), *examples, HumanMessage(user)]

    def ask(self, question: str, role: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        return next(e for e in self.ask_stream(question, role, history, stream=False) if isinstance(e, Answer))

    def ask_stream(self, question: str, role: str, history: Sequence[tuple[str, str]] = (), *,
                   stream: bool = True) -> Iterator["str | Answer"]:
        """The answer text as it is written (partial strings), then the checked Answer. What streamed is a
        draft: the final Answer may still be "not found" when its citations or numbers do not hold."""
        language = detect_language(question)
        standalone = self.condense(question, history)
        ranked = self.retrieve(standalone, role)
        best = best_score(ranked) if ranked else None
        base: dict[str, Any] = {"question": question, "standalone_question": standalone, "language": language,
                "model": model_id(self.chat_model), "retrieved_chunk_ids": [r.hit.item_id for r in ranked],
                "closest_sources": closest_sources(ranked), "best_score": round(best, 4) if best is not None else None}
        if best is None or best < self.settings.min_score:
            yield self._not_found(ranked, base)
            return
        kwargs: dict[str, Any] = {}
        if (fmt := response_format(self.json_mode, ANSWER_SCHEMA, "answer")) is not None:
            kwargs["response_format"] = fmt
        messages = self.messages(standalone, ranked, language)
        if stream:
            reply = ""
            for chunk in self.chat_model.stream(messages, **kwargs):
                reply += str(chunk.content)
                if (partial := partial_answer(reply)) is not None:
                    yield partial
        else:
            reply = str(self.chat_model.invoke(messages, **kwargs).content)
        yield self._finish(self.in_language(reply, language), standalone, ranked, base)

    def in_language(self, reply: str, language: str) -> str:
        """The reply with its answer in the question's language: a small model asked in English about a Chinese
        article often copies the article; then it is asked once more to say it in the question's language (the
        claims check reads numbers across languages, so the restated answer is checked like any other)."""
        parsed = parse_reply(reply)
        text = str((parsed or {}).get("answer", "")).strip()
        if not parsed or not text or detect_language(text) == language:
            return reply
        prompt = load_prompt("answer_restate").render(language=_LANGUAGE_NAMES.get(language, "English"), answer=text)
        restated = str(self.chat_model.invoke([HumanMessage(prompt)], max_tokens=400).content).strip()
        if not restated or detect_language(restated) != language:
            return reply
        return json.dumps({**parsed, "answer": restated}, ensure_ascii=False)

    def _finish(self, reply: str, standalone: str, ranked: Sequence[Ranked], base: dict[str, Any]) -> Answer:
        parsed = parse_reply(reply) or {}
        text, cited = verify_citations(str(parsed.get("answer", "")).strip(), parsed.get("citations", []),
                                       len(ranked))
        if not text or not cited:  # an answer that cites no retrieved passage is not grounded
            return self._not_found(ranked, base)
        kept, dropped = check_claims(text, {n: ranked[n - 1].hit.document for n in cited}, standalone)
        still = sorted({int(m) for m in _MARKER.findall(kept)} & set(cited)) or (cited if kept else [])
        if not kept or not still:  # nothing the cited passages state is left
            return self._not_found(ranked, base, dropped)
        citations = [self._citation(n, ranked[n - 1]) for n in still]
        return Answer(answer=kept, found=True, citations=citations, dropped=dropped, **base)

    def _not_found(self, ranked: Sequence[Ranked], base: dict[str, Any], dropped: Sequence[str] = ()) -> Answer:
        sources = base["closest_sources"]
        name = "not_found_zh" if base["language"] == "zh" else "not_found_en"
        joined = ("、" if base["language"] == "zh" else "; ").join(sources) or "-"
        return Answer(answer=load_prompt(name).render(sources=joined), found=False, dropped=list(dropped), **base)

    @staticmethod
    def _citation(n: int, item: Ranked) -> Citation:
        payload = item.hit.payload
        return Citation(
            n=n, source=str(payload.get("source", "")), title=str(payload.get("title", "")),
            chunk_id=item.hit.item_id, quote=item.hit.document[:_PASSAGE_CHARS],
            article=str(payload.get("article", "")), heading_path=str(payload.get("heading_path", "")),
            date=str(payload.get("date") or date_in_name(str(payload.get("source", "")))),  # older stores: the name
            url=str(payload.get("url", "")),
        )
