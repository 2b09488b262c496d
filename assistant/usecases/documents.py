"""Use cases over laws and guides: routing a question, cited answers (streamed), passage search (a whole list, or
a page for the API and MCP) and one passage by id."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from assistant.answer import Answerer
from assistant.audit import content_hash
from assistant.boundary import clean
from assistant.models import Answer, Page, Passage
from assistant.policy import pii
from core.errors import GovDataError, NotFound
from vectorstore.retriever import Fusion, Ranked, distinct, named_first
from vectorstore.store import PASSAGES

if TYPE_CHECKING:
    from assistant.routing import Route

from assistant.usecases.desk import Desk, _depth, _entry, _require

_COPIES = 5  # passages fetched per slot: copies of one text are skipped and a named law's come first


class DocumentUseCases(Desk):

    def route(self, question: str, previous: str | None = None) -> "Route":
        """Documents, datasets or SQL for a question: cue-word rules, the previous turn's route for a
        follow-up without cues, then the nearest example questions."""
        from assistant.routing import route

        question = clean(question[:self.settings.input.max_question_chars])  # a longer one is routed on its start;
        _require(question)  # the use case it goes to refuses it, with a receipt
        return route(question, self.embeddings.embed_array, clean(previous) if previous else None)

    def answerer(self) -> Answerer:
        def retrieve(question: str, role: str) -> list[Ranked]:
            k = self.settings.answer.passages
            ranked = self.retriever.retrieve(question, k=k * _COPIES, filters=self.passage_filters(role),
                                             collection=PASSAGES)
            return distinct(named_first(question, ranked, k), k)

        return Answerer(retrieve, self.chat_model, self.settings.answer, self.settings.llm.json_mode)

    def warm_up(self) -> None:
        """Open the store, load the encoder and the embedded model, and read the answer prompts' fixed prefix
        (system prompt and examples, Chinese and English), so the first question waits for none of it. A
        model server needs nothing here."""
        self.retriever.retrieve("warm up", k=1, filters=self.filters("citizen"), collection=PASSAGES)
        warm = getattr(self.chat_model, "warm", None)
        if warm is not None:
            for language in ("zh", "en"):
                warm(self.answerer().messages("?", [], language))

    @_entry("ask")
    def ask(self, question: str, *, role: str, history: list[tuple[str, str]] | None = None,
            user: str | None = None) -> Answer:
        """A grounded, cited answer from the documents the role may see (or found=false); leaves a receipt."""
        return next(e for e in self.ask_stream(question, role=role, history=history, user=user, stream=False)
                    if isinstance(e, Answer))

    @_entry("ask")
    def ask_stream(self, question: str, *, role: str, history: list[tuple[str, str]] | None = None,
                   user: str | None = None, stream: bool = True) -> Iterator[str | Answer]:
        """Draft answer text while the model writes, then the checked Answer (with its receipt id)."""
        with self._receipt("ask", role, user, question=question, route="docs",
                           settings=self._answer_settings()) as receipt:
            _require(question)
            masks = self.role(role).masks_pii
            answer: Answer | None = None
            with self.model_gate.slot(receipt.user, role):
                for event in self.answerer().ask_stream(question, role, history or [], stream=stream):
                    if isinstance(event, Answer):
                        answer = event
                    else:
                        yield pii.mask_draft(event) if masks else event
            if answer is None:
                raise GovDataError("the answer stream ended without an answer")
            shown, found = self._shown(role, answer)
            receipt.chunk_ids, receipt.model = answer.retrieved_chunk_ids, answer.model
            receipt.sources = sorted({c.source for c in answer.citations})
            receipt.answer_hash = content_hash(shown.model_dump(exclude={"receipt_id"}))
            receipt.raw_values = not masks and found > 0
            receipt.outcome = "answered" if answer.found else "not found"
        yield shown.model_copy(update={"receipt_id": receipt.id})

    @_entry("docs.search")
    def search_passages(self, query: str, *, k: int, role: str, fusion: Fusion | None = None,
                        user: str | None = None) -> list["Passage"]:
        """Hybrid search over document passages, access-filtered inside both searches."""
        return self._search_passages(query, k, 0, None, role, user, fusion).items

    @_entry("docs.search")
    def search_passages_page(self, query: str, *, k: int, offset: int = 0, role: str,
                             user: str | None = None) -> Page["Passage"]:
        """One page of a passage search for the API and MCP (ranked to GOVDATA_API__MAX_RESULTS, like datasets)."""
        return self._search_passages(query, k, offset, self.settings.api.max_results, role, user, None)

    def _search_passages(self, query: str, k: int, offset: int, deepest: int | None, role: str, user: str | None,
                         fusion: Fusion | None) -> Page["Passage"]:
        with self._receipt("docs.search", role, user, question=query, route="docs",
                           settings={"offset": offset} if offset else {}) as receipt:
            _require(query)
            depth = k if deepest is None else _depth(k, offset, deepest)
            ranked = self.retriever.retrieve(query, k=depth, filters=self.passage_filters(role), collection=PASSAGES,
                                             fusion=fusion)
            passages, found = self._shown(role, [Passage.from_ranked(r) for r in ranked[offset:offset + k]])
            receipt.raw_values = not self.role(role).masks_pii and found > 0
            receipt.chunk_ids = [p.chunk_id for p in passages]
            receipt.sources = sorted({p.source for p in passages})
            receipt.answer_hash = content_hash(receipt.chunk_ids)
        return Page(passages, len(ranked), offset, offset + k if len(ranked) > offset + k else None)

    @_entry("docs.get")
    def passage(self, chunk_id: str, *, role: str, user: str | None = None) -> "Passage":
        """One passage by id, if the role may see its level and it is not held for review; otherwise not found,
        exactly like an id that does not exist."""
        with self._receipt("docs.get", role, user, question=chunk_id, route="docs") as receipt:
            filters = self.passage_filters(role)
            stored = self.store.contents.get(PASSAGES, [chunk_id]).get(chunk_id)
            if (stored is None or stored[1].get("access_level") not in filters.access_levels
                    or (stored[1].get("held") and chunk_id not in filters.released)):
                raise NotFound("id", "no passage has this id", chunk_id)
            passage, found = self._shown(role, Passage.from_stored(chunk_id, *stored))
            receipt.raw_values = not self.role(role).masks_pii and found > 0
            receipt.chunk_ids, receipt.sources = [chunk_id], [passage.source]
            receipt.answer_hash = content_hash(receipt.chunk_ids)
        return passage
