"""Issue 26, item 6: the "N more records are not public" count depends on the query's words only, never on
filters over restricted records' metadata (publisher, date, format, language), and a publisher filter never
expands to a publisher of a level the role may not see. A real (temporary) Chroma store, hand-made vectors."""

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.services import Services
from assistant.ui import datasets as datasets_tab
from assistant.ui.common import Caller
from core.settings import Settings
from vectorstore.keyword import KeywordIndexes
from vectorstore.retriever import Retriever
from vectorstore.store import DATASETS, ChromaStore, ModelInfo

DIM = 4
CITIZEN = Caller("someone", "citizen")
SECRET_PUBLISHER = "Secret Mining Bureau"


class AxisEmbeddings:
    """Every query is the first axis, so the record on it is the nearest."""

    model_id, dimension = "axis", DIM

    def embed_query(self, text: str) -> list[float]:
        return np.eye(DIM, dtype=np.float32)[0].tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(np.eye(DIM, dtype=np.float32)[0], (len(texts), 1))


def _vector(axis: int, tilt: float) -> np.ndarray:
    v = np.eye(DIM, dtype=np.float32)[axis] + tilt * np.eye(DIM, dtype=np.float32)[0]
    return v / np.linalg.norm(v)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    """One restricted record (the best match) beside two public ones."""
    monkeypatch.setenv("GOVDATA_USER", "tester")
    records = [
        ("restricted-1", "restricted public", SECRET_PUBLISHER, 20230517, "Mine safety inspections, partners",
         _vector(0, 0.0)),
        ("public-1", "public", "Labor Office", 20200101, "Mine safety inspections", _vector(1, 2.0)),
        ("public-2", "public", "Treasury", 20190101, "Coin production figures", _vector(2, 0.5)),
    ]
    store = ChromaStore(tmp_path / "chroma", ModelInfo("axis", DIM), AxisEmbeddings)  # type: ignore[arg-type]
    metadata = [{"access_level": r[1], "publisher": r[2], "language": "en", "modified_ymd": r[3],
                 "catalog": "dcat-us", "format_csv": True} for r in records]
    payloads = [{"identifier": r[0], "title": r[4], "access_level": r[1], "publisher": r[2], "language": "en",
                 "modified_ymd": r[3], "formats": ["csv"], "source": "s"} for r in records]
    store.upsert(DATASETS, [r[0] for r in records], np.vstack([r[5] for r in records]), [r[4] for r in records],
                 metadata, payloads)
    svc = Services(Settings(home=tmp_path / "home"))
    keywords = KeywordIndexes(store.contents, tmp_path / "bm25")
    svc._retriever = Retriever(store, AxisEmbeddings(), keywords)  # type: ignore[arg-type]
    return svc


def _shown_count(services: Services, publisher: str = "", since: str = "") -> int:
    """The count the Find datasets tab shows a citizen (0 when it shows none)."""
    cards, _, _ = datasets_tab.find(services, CITIZEN, "mine safety inspections", publisher, "", since, "", "en")
    found = re.search(r'class="hidden-note">(\d+) more', cards)
    return int(found.group(1)) if found else 0


def test_publisher_and_since_filters_do_not_change_the_count(services: Services) -> None:
    """Before the fix the count followed the filters: "secret" -> 1 and "labor" -> 0 spelled out the restricted
    record's publisher, and since 2023-05-17 -> 1, 2023-05-18 -> 0 its modification day."""
    baseline = _shown_count(services)
    assert baseline == 1  # the restricted record is the best match for these words
    probes = [{"publisher": "secret"}, {"publisher": "secret mining b"}, {"publisher": "labor"},
              {"publisher": "zzz"}, {"since": "2023-05-17"}, {"since": "2023-05-18"}, {"since": "2999"},
              {"publisher": "secret", "since": "2023-05-17"}]
    assert [_shown_count(services, **probe) for probe in probes] == [baseline] * len(probes)


def test_the_count_is_of_the_top_k_for_the_words(services: Services) -> None:
    assert services.hidden_matches("mine safety inspections", k=3, role="citizen") == 1
    assert services.hidden_matches("mine safety inspections", k=3, role="civil_servant") == 0
    assert services.hidden_matches("mine safety inspections", k=3, role="data_steward") == 0


def test_a_publisher_filter_never_names_a_publisher_of_a_hidden_level(services: Services) -> None:
    """The publisher list used to expand a part ("secret") held every record's publisher, whatever its level."""
    assert SECRET_PUBLISHER not in services.filters("citizen", publisher="secret").publishers
    assert services.filters("citizen", publisher="labor").publishers == ("Labor Office",)
    assert services.filters("civil_servant", publisher="secret").publishers == (SECRET_PUBLISHER,)
    assert SECRET_PUBLISHER not in services.filters("civil_servant", publisher="secret",
                                                    access_level="public").publishers


def test_found_records_carry_the_registers_quality_score(services: Services) -> None:
    """Issue 17's card field: the register's metadata score of each found record (computed by the use case)."""
    found = services.search_datasets("mine safety", k=5, role="citizen")
    assert found and all(isinstance(r.quality, int) and 0 <= r.quality <= 100 for r in found)


def test_a_need_no_record_shares_a_word_with_gets_nothing_and_where_to_look(services: Services) -> None:
    """Issue 28: "Nothing matches" instead of the nearest unrelated records; the closest publishers and keywords
    are suggested from what the role may see, never a hidden level's."""
    assert services.search_datasets("roads", k=5, role="citizen") == []
    assert services.audit.recent(action="datasets.search", limit=1)[0].outcome == "nothing matches"
    closest = services.closest_topics("roads", role="citizen")
    assert SECRET_PUBLISHER not in closest["publishers"] and closest["publishers"]
    found = services.search_datasets("mine safety", k=5, role="citizen")
    assert found and found[0].matched == ["mine", "safety"]
