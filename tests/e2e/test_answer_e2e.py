"""Grounded answers on the real stack: real store, bundled USE embeddings, the bundled Qwen GGUF in llama.cpp,
and the OpenAI-compatible path against llama-cpp-python's own server on 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.services import Services
from core.settings import LlmSettings, Settings

from .conftest import FIXTURES, free_port, govdata

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("answer-home")
    result = govdata(home, "ingest", str(FIXTURES / "docs"), str(FIXTURES / "catalogs"))
    assert result.code == 0, result.stderr
    return home


@pytest.fixture(scope="module")
def services(home: Path) -> Services:
    return Services(Settings(home=home))


def test_chinese_question_answered_with_a_verified_citation(services: Services) -> None:
    answer = services.ask("政府信息公开申请的答复期限是多少？", role="citizen")
    assert answer.found and answer.language == "zh"
    assert "20个工作日" in answer.answer
    assert answer.citations and all(c.chunk_id in answer.retrieved_chunk_ids for c in answer.citations)
    assert any(c.article == "第三十三条" for c in answer.citations)


def test_answer_streams_drafts_then_a_receipted_answer(services: Services) -> None:
    events = list(services.ask_stream("政府信息公开申请的答复期限是多少？", role="citizen", user="e2e"))
    drafts, final = [e for e in events if isinstance(e, str)], events[-1]
    assert len(drafts) >= 3 and final.found and final.receipt_id is not None
    assert drafts[-1].strip() and drafts[-1].strip()[:10] == final.answer.strip()[:10]
    receipt = services.audit.get(final.receipt_id)
    assert receipt.user == "e2e" and receipt.action == "ask" and receipt.chunk_ids == final.retrieved_chunk_ids
    assert services.audit.verify().ok


def test_english_question_answered_in_english(services: Services) -> None:
    answer = services.ask("How can a government service increase digital take-up?", role="citizen")
    assert answer.found and answer.language == "en"
    assert answer.citations and answer.citations[0].source.endswith("increasing-digital-takeup.md")
    assert sum(ch.isascii() for ch in answer.answer) > 0.9 * len(answer.answer)


def test_unanswerable_question_is_declined_with_closest_sources(services: Services) -> None:
    answer = services.ask("Who won the 2022 FIFA World Cup?", role="citizen")
    assert not answer.found and answer.citations == []
    assert answer.closest_sources and answer.answer.startswith("The ingested laws and guides do not contain")


def test_ask_cli_json_contract(home: Path) -> None:
    result = govdata(home, "ask", "可靠的电子签名有什么法律效力？", "--json")
    assert result.code == 0, result.stderr
    payload = result.json()
    assert {"answer", "found", "language", "citations"} <= set(payload)  # type: ignore[arg-type]
    for citation in payload["citations"]:  # type: ignore[index]
        assert {"n", "source", "title", "chunk_id", "quote"} <= set(citation)


def test_openai_compatible_path_against_local_llama_server(home: Path, services: Services) -> None:
    model_file = services.settings.models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert services.chat_model is not None  # assembles and verifies the bundled file if no test did yet
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--model_alias", "local-qwen"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(1)
        remote = Services(Settings(home=home, llm=LlmSettings(provider="openai", base_url=f"http://127.0.0.1:{port}/v1",
                                                                model="local-qwen")))
        assert remote.chat_model.mask_pii  # type: ignore[attr-defined]  # personal data is masked before sending
        answer = remote.ask("政府信息公开申请的答复期限是多少？", role="citizen")
        assert answer.found and "20个工作日" in answer.answer
        assert any(c.article == "第三十三条" for c in answer.citations)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_answer_prefix_state_is_put_back_after_another_kind_of_call(services: Services) -> None:
    """The system prompt and examples are read once; after a SQL-style call the saved state is put back and
    the greedy reply is the same as when the model reads the whole prompt."""
    from langchain_core.messages import HumanMessage, SystemMessage

    model: Any = services.chat_model
    question = "政府信息公开申请的答复期限是多少？"
    answerer = services.answerer()
    messages = answerer.messages(question, answerer.retrieve(question, "citizen"), "zh")
    other = [SystemMessage("You write SQL."), HumanMessage("Count the rows of t.")]
    model.invoke(other, max_tokens=4)
    cached_reply = model.invoke(messages, max_tokens=24).content
    model.invoke(other, max_tokens=4)
    before_restore = model.cached_tokens(model.prompt_tokens(messages))
    restored = model.prefixes.restored
    assert model.invoke(messages, max_tokens=24).content == cached_reply
    assert model.prefixes.restored == restored + 1 and before_restore < 20
    model.prefix_cache, model._prefixes = 0, None  # the whole prompt read again, nothing put back
    try:
        model.invoke(other, max_tokens=4)
        assert model.invoke(messages, max_tokens=24).content == cached_reply
    finally:
        model.prefix_cache, model._prefixes = 4, None


@pytest.fixture(scope="module")
def laws_only(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The Chinese regulation with English guides beside it, but without retention.docx, whose English sentence
    ("answered within twenty working days") answers the question below equally well and is what the model cites
    when it is there."""
    source = tmp_path_factory.mktemp("laws-docs")
    for name in ("政府信息公开条例(2019-04-03).md", "increasing-digital-takeup.md", "open-data-policy.html"):
        (source / name).write_bytes((FIXTURES / "docs" / name).read_bytes())
    home = tmp_path_factory.mktemp("laws-home")
    result = govdata(home, "ingest", str(source))
    assert result.code == 0, result.stderr
    return Services(Settings(home=home))


def test_english_question_about_a_chinese_law_is_answered_from_its_article(laws_only: Services) -> None:
    """Issue 29: a cross-language question scores lower than a same-language one; it is answered, not declined,
    in English, citing the article that answers it."""
    answer = laws_only.ask("How long does an agency have to answer a request for government information?",
                           role="civil_servant")
    assert answer.found, answer.answer
    assert answer.language == "en" and sum(ch.isascii() for ch in answer.answer) > 0.8 * len(answer.answer)
    assert any(c.article == "第三十三条" for c in answer.citations)
    assert "20" in answer.answer or "twenty" in answer.answer.lower()
    assert answer.best_score is not None and answer.best_score >= laws_only.settings.answer.min_score


def test_a_sentence_its_passage_does_not_state_is_dropped(services: Services) -> None:
    """Issue 29: real retrieval and the real claims check; the reply is written here so that it holds one
    sentence the cited article supports and one it does not (a planted number and body)."""
    from assistant.answer import Answerer

    question = "政府信息公开申请的答复期限是多少？"
    answerer = services.answerer()
    ranked = answerer.retrieve(question, "civil_servant")
    cited = next(n for n, r in enumerate(ranked, 1) if "第三十三条" in r.hit.document)
    reply = (f'{{"answer": "行政机关应当自收到申请之日起20个工作日内予以答复 [{cited}]。'
             f'申请人可以向国务院办公厅缴纳500元加急费用，3日内答复 [{cited}]。", "citations": [{cited}]}}')
    base = {"question": question, "standalone_question": question, "language": "zh", "model": "scripted",
            "retrieved_chunk_ids": [r.hit.item_id for r in ranked], "closest_sources": [], "best_score": None}
    answer = Answerer._finish(answerer, reply, question, ranked, base)
    assert answer.found and "20个工作日" in answer.answer
    assert "500" not in answer.answer and any("500" in sentence for sentence in answer.dropped)
