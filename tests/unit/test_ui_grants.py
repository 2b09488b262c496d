"""Issue 33 in the web app, without a browser: the Access tab's handlers (a member asks, a steward works the queue)
and the workbench dropping a kept result once its grant has ended."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from assistant.services import Services
from assistant.ui import grants as access_tab
from assistant.ui import session, workbench
from assistant.ui.common import Caller
from tests.unit.grant_home import OPERATOR, grant_home

OLGA, SAM = Caller("olga", OPERATOR), Caller("steward-ana", "data_steward")
UNTIL = (date.today() + timedelta(days=20)).isoformat()


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    return grant_home(tmp_path, index=False)


def test_a_member_asks_and_a_steward_approves_narrowed_from_the_queue(svc: Services) -> None:
    grants, asked, status = access_tab.mine(svc, OLGA, "en")
    assert grants.empty and asked.empty and status == "0 grant(s), 0 request(s)."
    table, status = access_tab.ask_access(svc, OLGA, "trips", "timetables", UNTIL, "district,route,fare", "", "en")
    assert status == "Request r0001 sent; a data steward decides." and list(table["status"]) == ["pending"]
    refused, line = access_tab.queue(svc, OLGA, "en")
    assert refused is None and line.startswith("error:")
    queue, line = access_tab.queue(svc, SAM, "en")
    assert list(queue["id"]) == ["r0001"] and line == "1 request(s) waiting."
    queue, line = access_tab.approve(svc, SAM, "r0001", "", "district,route", "district = 'd1'", "no fares", "en")
    assert line == "Approved r0001 as grant g0001." and queue.empty
    grants, asked, _ = access_tab.mine(svc, OLGA, "zh")
    assert list(grants["rows"]) == ["\"district\" = 'd1'"] and list(asked["decision"]) == ["g0001 no fares"]
    tables, _ = session.role_choices(svc, OLGA.role, "en", user=OLGA.user)
    assert "trips" in tables["choices"]
    assert session.who(svc, OLGA, "en")[-2:] == ({"visible": False, "__type__": "update"},
                                                 {"visible": True, "__type__": "update"})  # the tab, not the queue
    assert session.who(svc, Caller("walk-in", "citizen"), "en")[-1]["visible"] is False


def test_a_rejection_needs_a_reason_and_bad_input_names_the_form_field(svc: Services) -> None:
    _, line = access_tab.ask_access(svc, OLGA, "trips", "", UNTIL, "", "", "en")
    assert line == "error: Purpose: must not be empty"
    _, line = access_tab.ask_access(svc, OLGA, "trips", "x", UNTIL, "", "lower(route) = 'r1'", "en")
    assert line.startswith("error: Rows (a predicate; optional): a predicate may not call a function")
    access_tab.ask_access(svc, OLGA, "trips", "ads", UNTIL, "", "", "en")
    _, line = access_tab.reject(svc, SAM, "r0001", "", "en")
    assert line == "error: Note or reason (the requester sees it): must not be empty"
    _, line = access_tab.reject(svc, SAM, "r0001", "not a public purpose", "en")
    assert line == "Rejected r0001."


def test_a_kept_result_is_dropped_with_its_csv_once_its_grant_ends(svc: Services, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    svc.create_grant("transit-co", "trips", purpose="p", until=UNTIL, columns="district,route", role=SAM.role)
    shown, state, *rest = workbench.run(svc, OLGA, "SELECT route FROM trips ORDER BY route", "en")
    assert state["granted"] == ("olga", ("g0001",)) and Path(rest[-1]).is_file()
    assert workbench.turn_page(state, 1, "en", svc)[0] is state
    svc.revoke_grant("g0001", role=SAM.role)
    assert workbench.turn_page(state, 1, "en", svc) == (None, None, "This result was read through a grant that "
                                                                    "has ended; it is no longer shown.")
    assert not Path(rest[-1]).exists()
    _, plain, *_ = workbench.run(svc, SAM, "SELECT count(*) FROM trips", "en")
    assert plain["granted"] == ("steward-ana", ()) and workbench.turn_page(plain, 1, "en", svc)[0] is plain


def test_a_csv_link_shown_before_a_revocation_no_longer_downloads(svc: Services, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's wall (assistant/ui/walls.py) in front of Gradio's file route: the CSV of a result read through
    a grant downloads while the grant holds; after a revocation the same link gets 404 and every copy is gone,
    with no page turn in between. A result read without a grant is not its business."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from assistant.ui.server import walls

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    svc.create_grant("transit-co", "trips", purpose="p", until=UNTIL, columns="district,route", role=SAM.role)
    *_, granted_csv = workbench.run(svc, OLGA, "SELECT route FROM trips ORDER BY route", "en")
    *_, plain_csv = workbench.run(svc, SAM, "SELECT count(*) FROM trips", "en")
    cached = tmp_path / "0123abcd" / Path(granted_csv).name  # Gradio's cached copy of the same file
    cached.parent.mkdir()
    cached.write_bytes(Path(granted_csv).read_bytes())

    def serve(request: object) -> FileResponse:
        return FileResponse(str(request.path_params["path"]))

    gated = [m for m in walls(svc) if m.cls.__name__ == "GrantedDownloads"]
    client = TestClient(Starlette(routes=[Route("/gradio_api/file={path:path}", serve)], middleware=gated))
    assert client.get(f"/gradio_api/file={granted_csv}").status_code == 200
    svc.revoke_grant("g0001", role=SAM.role)
    refused = client.get(f"/gradio_api/file={cached}")
    assert refused.status_code == 404 and "grant that has ended" in refused.text
    assert not Path(granted_csv).exists() and not cached.exists()
    assert client.get(f"/gradio_api/file={plain_csv}").status_code == 200


def test_the_download_register_forgets_old_results_and_deletes_their_files(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry older than the web cache's age goes with every copy of its file: the register does not grow with
    the uptime, and no granted file stays downloadable without its entry."""
    from assistant.ui import walls

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    old, copy, new = tmp_path / "old.csv", tmp_path / "cache" / "old.csv", tmp_path / "new.csv"
    copy.parent.mkdir()
    for f in (old, copy, new):
        f.write_text("route\nr1\n", encoding="utf-8")
    walls.remember_granted(str(old), "olga", ("g0001",), now=1000.0)
    walls.remember_granted(str(new), "olga", ("g0001",), now=1000.0 + walls.GRANTED_KEEP_S / 2)
    assert walls.granted_download({"path": "/file=" + str(old)}) is not None
    walls.remember_granted(str(new), "olga", ("g0001",), now=1001.0 + walls.GRANTED_KEEP_S)
    assert walls.granted_download({"path": "/file=" + str(old)}) is None
    assert not old.exists() and not copy.exists() and new.exists()
    assert walls.granted_download({"path": "/file=" + str(new)}) == ("new.csv", "olga", ("g0001",))
