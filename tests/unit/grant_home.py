"""A small home for the grant tests (issue 33): a restricted approved table of trips with a sensitive plate column,
an operator organisation "transit-co" with one user, and a steward. Tables are indexed for dataset search with
hashed-word vectors (no model)."""

import json
from pathlib import Path

from assistant.services import Services
from core.settings import Settings
from tests.unit.test_held import HashEmbeddings

STEWARD = "data_steward"
OPERATOR = "operator"
TRIPS = ["id", "district", "route", "plate", "fare", "driver_age"]
# district d1 holds trips 1, 3, 5; d2 holds 2, 6; d3 holds 4
ROWS = [(1, "d1", "r10", "京A10001", 2.0, 31), (2, "d2", "r20", "京A20002", 3.0, 45),
        (3, "d1", "r11", "京A10003", 2.5, 27), (4, "d3", "r30", "京A30004", 4.0, 60),
        (5, "d1", "r10", "京A10005", 2.0, 38), (6, "d2", "r21", "京A20006", 3.5, 52)]
PASSWORD = "operator-pass-1"


def write_trips(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "trips.csv"
    data.write_text("\n".join([",".join(TRIPS), *(",".join(map(str, r)) for r in ROWS)]) + "\n", encoding="utf-8")
    describe = folder / "trips.describe.json"
    describe.write_text(json.dumps({"title": "Bus trips by district", "publisher": "Transport Bureau",
                                    "theme": "transport", "columns": {"plate": {"sensitive": True}}}),
                        encoding="utf-8")
    return data, describe


def grant_home(folder: Path, *, index: bool = True, **settings: object) -> Services:
    """Services as the steward `steward-ana`, with the trips table (restricted public), the organisation
    transit-co (an operator) and its user `olga` in the operator role; `settings` as Settings takes them."""
    svc = Services(Settings(home=folder / "home", user="steward-ana", **settings))  # type: ignore[arg-type]
    svc._embeddings = HashEmbeddings()  # type: ignore[assignment]
    data, describe = write_trips(folder / "data")
    if index:
        svc.add_tables(data, describe=describe, access_level="restricted public", role=STEWARD)
    else:
        svc.sql.approved.add(data, name="trips", access_level="restricted public", describe=describe)
    svc.add_organisation("transit-co", kind="operator", contact="Data office, transit-co", role=STEWARD)
    svc.add_user("olga", OPERATOR, password=PASSWORD, org="transit-co", role=STEWARD)
    return svc
