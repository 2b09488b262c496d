"""The store contract, run against a real Chroma server: the retrieval tests of tests/unit/test_retrieval.py
(access partitions, filters, fusion, re-partitioning, the keyword cache) with `GOVDATA_CHROMA__URL` pointing
at `chroma run` on 127.0.0.1, started once per session. Each test gets its own database on the server."""

import uuid
from pathlib import Path

import pytest

from assistant.factories import chroma_server
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings
from tests.unit.test_retrieval import (  # noqa: F401  (collected here again, with the server-backed fixture)
    DIM,
    FixedEmbeddings,
    filled_retriever,
    test_citizen_never_gets_restricted_records_at_any_k,
    test_filter_is_inside_the_search_not_after,
    test_keyword_cache_round_trips_without_pickle,
    test_publisher_format_and_date_filters,
    test_record_that_becomes_restricted_leaves_the_public_partition,
    test_roles_with_more_levels_see_more,
)
from vectorstore.retriever import Retriever
from vectorstore.store import DATASETS, ChromaServer, ChromaStore, ModelInfo

from .conftest import free_port

pytestmark = pytest.mark.e2e


def _database(url: str) -> str:
    import chromadb

    name = f"govdata_{uuid.uuid4().hex[:12]}"
    parts = url.rsplit(":", 1)
    chromadb.AdminClient(chromadb.Settings(chroma_server_host=parts[0].split("//")[1],
                                           chroma_server_http_port=int(parts[1]),
                                           chroma_api_impl="chromadb.api.fastapi.FastAPI",
                                           anonymized_telemetry=False)).create_database(name)
    return name


@pytest.fixture
def retriever(chroma_url: str, tmp_path: Path) -> Retriever:
    server = ChromaServer(chroma_url, database=_database(chroma_url))
    store = ChromaStore(tmp_path / "chroma", ModelInfo("fixed", DIM), FixedEmbeddings, server)  # type: ignore[arg-type]
    return filled_retriever(store, tmp_path)


def test_the_server_holds_the_vectors_and_a_second_client_sees_them(chroma_url: str, tmp_path: Path) -> None:
    server = ChromaServer(chroma_url, database=_database(chroma_url))
    first = ChromaStore(tmp_path / "a", ModelInfo("fixed", DIM), FixedEmbeddings, server)  # type: ignore[arg-type]
    filled_retriever(first, tmp_path / "a")
    again = ChromaStore(tmp_path / "b", ModelInfo("fixed", DIM), FixedEmbeddings, server)  # type: ignore[arg-type]
    assert again.count(DATASETS) == 5 and not any((tmp_path / "b").glob("*.sqlite3"))  # no local Chroma files


def test_the_model_check_holds_on_the_server(chroma_url: str, tmp_path: Path) -> None:
    from core.errors import StoreMismatchError

    server = ChromaServer(chroma_url, database=_database(chroma_url))
    ChromaStore(tmp_path / "a", ModelInfo("fixed", DIM), FixedEmbeddings, server)  # type: ignore[arg-type]
    with pytest.raises(StoreMismatchError, match="built with embedding model fixed"):
        ChromaStore(tmp_path / "b", ModelInfo("other", DIM), FixedEmbeddings, server)  # type: ignore[arg-type]


def test_a_server_that_is_down_is_one_error_naming_its_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("GOVDATA_CHROMA__URL", url)
    with pytest.raises(GovDataError, match=f"Chroma server at {url}"):
        Services(Settings(home=tmp_path)).store  # noqa: B018
    monkeypatch.setenv("GOVDATA_CHROMA__TOKEN_ENV", "GOVDATA_TEST_CHROMA_TOKEN")
    with pytest.raises(GovDataError, match="GOVDATA_TEST_CHROMA_TOKEN, which is not set"):
        chroma_server(Settings(home=tmp_path))
    monkeypatch.setenv("GOVDATA_TEST_CHROMA_TOKEN", "s3cret")
    assert chroma_server(Settings(home=tmp_path)).headers == {"Authorization": "Bearer s3cret"}  # type: ignore[union-attr]
    monkeypatch.setenv("GOVDATA_CHROMA__URL", "ftp://nowhere")
    with pytest.raises(GovDataError, match="expected http://HOST:PORT"):
        Services(Settings(home=tmp_path)).store  # noqa: B018
