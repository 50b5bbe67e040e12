"""The web app's JSON API through FastAPI's test client: every route, and its errors."""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

from susurrus.api import ServerSettings, create_app  # noqa: E402
from susurrus.api.security import create_account, host_allowed  # noqa: E402
from susurrus.api.uploads import display_name, sniff  # noqa: E402
from susurrus.errors import ParameterError  # noqa: E402

pytestmark = pytest.mark.xdist_group("api")
TOKEN = "test-token-0123"
BASE = "http://127.0.0.1:8000"


def _client(settings: ServerSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def client(app_dir: Path) -> Iterator[TestClient]:
    """A signed-in browser (token mode): cookie from ``/?token=``, CSRF header set."""
    yield from _client(ServerSettings(data_dir=app_dir, token=TOKEN, render_workers=1))


@pytest.fixture(scope="module")
def csrf(client: TestClient) -> dict[str, str]:
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    me = client.get("/api/me").json()
    assert me["mode"] == "token"
    return {"X-CSRF-Token": me["csrf"]}


@pytest.fixture(scope="module")
def ada(client: TestClient, csrf: dict[str, str]) -> str:
    r = client.post("/api/profiles", json={"name": "ada"}, headers=csrf)
    assert r.status_code == 201, r.text
    return "ada"


def _wav_bytes(seconds: float = 3.0, sr: int = 16000) -> bytes:
    rng = np.random.default_rng(1)
    y = 0.05 * rng.standard_normal(int(seconds * sr)).astype(np.float32)
    y[sr : sr + 200] += 0.9  # a jarring click at 1 s
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _wait(client: TestClient, url: str, *, key: str = "status", timeout: float = 60.0) -> dict[str, Any]:
    t0 = time.monotonic()
    while True:
        body: dict[str, Any] = client.get(url).json()
        if body.get(key) in ("done", "error") or time.monotonic() - t0 > timeout:
            return body
        time.sleep(0.1)


# -- security ---------------------------------------------------------------------------

def test_unauthenticated_requests_get_401(app_dir: Path) -> None:
    with TestClient(create_app(ServerSettings(data_dir=app_dir, token=TOKEN, render_workers=0)), base_url=BASE) as c:
        assert c.get("/api/presets").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/?token=wrong-token-xx").status_code == 401
        assert c.get("/api/presets", headers={"Authorization": "Bearer wrong-token-x"}).status_code == 401
        assert c.get("/api/presets", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/api/me").status_code == 401
        # help is one click away before signing in: no user data in it
        assert c.get("/api/crisis").status_code == 200 and c.get("/api/wellness").status_code == 200


def test_host_header_is_checked(client: TestClient, csrf: dict[str, str]) -> None:
    r = client.get("/api/presets", headers={"host": "attacker.example:8000"})
    assert r.status_code == 400 and "host" in r.json()["detail"]
    assert client.get("/api/presets", headers={"host": "localhost:8000"}).status_code == 200
    assert host_allowed("[::1]:8000", ())
    assert host_allowed("192.168.1.20:8000", ())
    assert not host_allowed("rebind.example.com", ())
    assert host_allowed("box.local:8000", ("box.local",))
    assert not host_allowed(None, ())


def test_csrf_required_on_state_changes(client: TestClient, csrf: dict[str, str]) -> None:
    r = client.post("/api/profiles", json={"name": "no-csrf"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/profiles", json={"name": "bad-csrf"}, headers={"X-CSRF-Token": "nope"})
    assert r.status_code == 403
    r = client.post("/api/profiles", json={"name": "x-origin"},
                    headers={**csrf, "Origin": "http://attacker.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    # a Bearer-token API client holds no ambient credential: no CSRF token needed
    jar, client.cookies = client.cookies, {}  # no session cookie on these requests
    try:
        body = {"scene": {"layers": [{"trigger": "rain"}]}}
        assert client.post("/api/scenes/validate", json=body).status_code == 401
        r = client.post("/api/scenes/validate", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
    finally:
        client.cookies = jar


def test_settings_refuse_unsafe_configurations(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="host"):
        ServerSettings(data_dir=tmp_path, host="0.0.0.0")
    ServerSettings(data_dir=tmp_path, host="0.0.0.0", auth="accounts")
    with pytest.raises(ParameterError, match="token"):
        ServerSettings(data_dir=tmp_path, token="short")
    with pytest.raises(ParameterError, match="max_upload_mb"):
        ServerSettings(data_dir=tmp_path, max_upload_mb=0)


def test_openapi_describes_the_api(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for p in ("/api/streams", "/api/streams/{sid}/audio", "/api/profiles/{name}/checkins",
              "/api/profiles/{name}/questionnaires", "/api/analyses", "/api/crisis", "/api/presets"):
        assert p in paths, p
    assert all(p.startswith("/api/") for p in paths)


def test_page_and_static_files(client: TestClient, csrf: dict[str, str]) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


# -- catalogue and scenes ----------------------------------------------------------------

def test_presets_and_triggers(client: TestClient, csrf: dict[str, str]) -> None:
    presets = client.get("/api/presets").json()
    names = {p["name"] for p in presets}
    assert {"relax", "sleep", "focus"} <= names
    relax = next(p for p in presets if p["name"] == "relax")
    assert relax["share"].startswith("s1.") and "rain" in relax["families"]
    trig = {t["id"]: t for t in client.get("/api/triggers").json()}
    assert len(trig) == 18
    assert "female" in trig["whisper"]["variants"]
    p = trig["tapping"]["params"]
    assert all(v["min"] <= v["default"] <= v["max"] for v in p.values())


def test_scene_validate_and_share_round_trip(client: TestClient, csrf: dict[str, str]) -> None:
    scene = {"name": "mine", "layers": [{"trigger": "rain", "variant": "light", "gain_db": -3}]}
    r = client.post("/api/scenes/validate", json={"scene": scene}, headers=csrf)
    assert r.status_code == 200
    share = r.json()["share"]
    back = client.get(f"/api/scenes/{share}").json()
    assert back["scene"] == r.json()["scene"] and back["share"] == share


@pytest.mark.parametrize(("scene", "field"), [
    ({"layers": [{"trigger": "rain", "gain_db": 99}]}, "gain_db"),
    ({"layers": []}, "layers"),
    ({"layers": [{"trigger": "no-such-trigger"}]}, None),
    ({"layers": [{"kind": "recording", "path": "/etc/passwd"}]}, "kind"),
])
def test_bad_scenes_are_422_naming_the_field(client: TestClient, csrf: dict[str, str],
                                            scene: dict[str, Any], field: str | None) -> None:
    r = client.post("/api/scenes/validate", json={"scene": scene}, headers=csrf)
    assert r.status_code == 422, r.text
    if field:
        assert field in r.json()["detail"]


def test_malformed_share_string(client: TestClient, csrf: dict[str, str]) -> None:
    assert client.get("/api/scenes/s1.not-base64!!").status_code == 422


# -- streams ----------------------------------------------------------------------------

LIGHT = {"name": "light", "sr": 48000, "layers": [{"name": "bed", "trigger": "noise", "variant": "pink",
                                                    "spread": "diffuse", "gain_db": -6}],
         "master": {"fade_in_s": 0.5}}


def test_stream_lifecycle(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    r = client.post("/api/streams", json={"scene": LIGHT, "profile": ada}, headers=csrf)
    assert r.status_code == 201, r.text
    st = r.json()
    sid, jid = st["id"], st["journal_session_id"]
    assert st["audio_url"] == f"/api/streams/{sid}/audio" and isinstance(jid, int)
    # the page's before check-in goes to the journal session the stream opened
    assert client.post(f"/api/profiles/{ada}/checkins", headers=csrf,
                       json={"phase": "before", "session_id": jid, "stress": 6, "calm": 3}).status_code == 201
    louder = {**LIGHT, "layers": [{**LIGHT["layers"][0], "gain_db": -12}]}
    r = client.put(f"/api/streams/{sid}/scene", json={"scene": louder}, headers=csrf)
    assert r.status_code == 200 and r.json()["scene"]["layers"][0]["gain_db"] == -12
    r = client.put(f"/api/streams/{sid}/scene", json={"scene": {"layers": []}}, headers=csrf)
    assert r.status_code == 422
    r = client.post(f"/api/streams/{sid}/timer", json={"minutes": 2, "fade_s": 60}, headers=csrf)
    assert r.status_code == 200 and r.json()["timer"]["remaining_s"] == pytest.approx(120, abs=1)
    r = client.post(f"/api/streams/{sid}/timer/extend", json={"minutes": 15}, headers=csrf)
    assert r.json()["timer"]["remaining_s"] == pytest.approx(1020, abs=1)
    r = client.post(f"/api/streams/{sid}/timer/extend", json={"minutes": -15}, headers=csrf)
    assert r.json()["timer"]["remaining_s"] == pytest.approx(120, abs=1)
    assert client.post(f"/api/streams/{sid}/timer", json={"minutes": 2, "fade_s": 5},
                       headers=csrf).status_code == 422
    r = client.delete(f"/api/streams/{sid}/timer", headers=csrf)
    assert r.status_code == 200 and r.json()["timer"] is None
    assert client.delete(f"/api/streams/{sid}", headers=csrf).status_code == 204
    assert client.get(f"/api/streams/{sid}").status_code == 404
    entries = client.get(f"/api/profiles/{ada}/journal").json()["entries"]
    sess = next(e for e in entries if e["kind"] == "session" and e["id"] == jid)
    assert sess["outcome"] == "stopped" and sess["before"]["stress"] == 6


def test_stream_request_errors(client: TestClient, csrf: dict[str, str]) -> None:
    assert client.post("/api/streams", json={}, headers=csrf).status_code == 422
    r = client.post("/api/streams", json={"preset": "relax", "share": "s1.x"}, headers=csrf)
    assert r.status_code == 422
    assert client.post("/api/streams", json={"preset": "nope"}, headers=csrf).status_code in (404, 422)
    assert client.post("/api/streams", json={"goal": "sleep"}, headers=csrf).status_code == 422
    assert client.post("/api/streams", json={"goal": "sleep", "profile": "ghost"},
                       headers=csrf).status_code == 404
    assert client.get("/api/streams/nope").status_code == 404
    assert client.get("/api/streams/nope/audio").status_code == 404


def test_personal_session_stream_has_why(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    r = client.post("/api/streams", json={"profile": ada, "goal": "sleep"}, headers=csrf)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["why"] and any("sleep" in line for line in body["why"])
    client.delete(f"/api/streams/{body['id']}", headers=csrf)
    r = client.post(f"/api/profiles/{ada}/sessions", json={"goal": "focus", "duration_s": 600}, headers=csrf)
    assert r.status_code == 200 and r.json()["scene"]["duration_s"] == 600
    assert r.json()["share"].startswith("s1.")


def test_render_job_and_download(client: TestClient, csrf: dict[str, str]) -> None:
    r = client.post("/api/renders", json={"scene": LIGHT, "format": "flac", "duration_s": 3}, headers=csrf)
    assert r.status_code == 202
    rid = r.json()["id"]
    st = _wait(client, f"/api/renders/{rid}")
    assert st["status"] == "done", st
    f = client.get(st["download_url"])
    assert f.status_code == 200 and "attachment" in f.headers["content-disposition"]
    y, sr = sf.read(io.BytesIO(f.content))
    assert sr == 48000 and abs(len(y) / sr - 3.0) < 0.05
    assert client.get("/api/renders/nope").status_code == 404
    assert client.post("/api/renders", json={"scene": LIGHT, "format": "mp3"}, headers=csrf).status_code == 422


# -- profiles and discovery -------------------------------------------------------------

def test_profiles_discovery_and_avoid(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    assert client.post("/api/profiles", json={"name": ada}, headers=csrf).status_code == 409
    assert client.post("/api/profiles", json={"name": "@x"}, headers=csrf).status_code == 422
    assert ada in [p["name"] for p in client.get("/api/profiles").json()]
    clip = client.post(f"/api/profiles/{ada}/clips", headers=csrf).json()
    assert 10 <= clip["duration_s"] <= 20
    a = client.get(clip["audio_url"])
    assert a.status_code == 200
    y, sr = sf.read(io.BytesIO(a.content))
    assert abs(len(y) / sr - clip["duration_s"]) < 0.1 and np.abs(y).max() > 0.01
    r = client.post(f"/api/profiles/{ada}/ratings", headers=csrf,
                    json={"clip_id": clip["id"], "tingles": 7, "relax": 8})
    assert r.status_code == 200 and r.json()["ratings"] >= 1
    r = client.post(f"/api/profiles/{ada}/ratings", headers=csrf,
                    json={"clip_id": clip["id"], "tingles": 11, "relax": 8})
    assert r.status_code == 422 and "tingles" in r.json()["detail"]
    r = client.put(f"/api/profiles/{ada}/avoid", json={"families": ["typing", "breathing"]}, headers=csrf)
    assert r.status_code == 200 and r.json()["avoid"] == ["breathing", "typing"]
    r = client.put(f"/api/profiles/{ada}/avoid", json={"families": ["typing"]}, headers=csrf)
    assert r.json()["avoid"] == ["typing"]
    r = client.put(f"/api/profiles/{ada}/avoid", json={"families": ["lasers"]}, headers=csrf)
    assert r.status_code == 422
    prof = client.get(f"/api/profiles/{ada}").json()
    assert {b["family"] for b in prof["beliefs"]} >= {"whisper", "tapping"}
    assert client.get("/api/profiles/ghost").status_code == 404
    assert client.get(f"/api/profiles/{ada}/clips/../../etc/audio").status_code == 404
    assert client.get(f"/api/profiles/{ada}/clips/c9999-none/audio").status_code == 404


# -- journal ---------------------------------------------------------------------------

def test_checkin_sleep_and_journal(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    r = client.post(f"/api/profiles/{ada}/checkins", headers=csrf,
                    json={"phase": "standalone", "stress": 4, "calm": 6, "note": "quiet evening"})
    assert r.status_code == 201
    r = client.post(f"/api/profiles/{ada}/checkins", headers=csrf, json={"phase": "after"})
    assert r.status_code == 422 and "session_id" in r.json()["detail"]
    r = client.post(f"/api/profiles/{ada}/sleep", headers=csrf, json={
        "night": "2026-11-20", "bedtime": "23:00", "lights_out": "23:15", "sleep_latency_min": 15,
        "awakenings": 1, "wake_after_sleep_onset_min": 10, "final_wake": "06:30", "out_of_bed": "06:45",
        "quality": 4})
    assert r.status_code == 201, r.text
    m = r.json()["metrics"]
    assert m["tib_min"] == pytest.approx(465) and m["tst_min"] == pytest.approx(410)  # 435 - 15 - 10
    r = client.post(f"/api/profiles/{ada}/sleep", headers=csrf, json={
        "night": "2026-11-21", "bedtime": "25:00", "lights_out": "23:15", "sleep_latency_min": 15,
        "awakenings": 1, "wake_after_sleep_onset_min": 10, "final_wake": "06:30", "out_of_bed": "06:45"})
    assert r.status_code == 422 and "bedtime" in r.json()["detail"]
    entries = client.get(f"/api/profiles/{ada}/journal").json()["entries"]
    kinds = {e["kind"] for e in entries}
    assert {"checkin", "sleep"} <= kinds
    assert any(e.get("note") == "quiet evening" for e in entries)
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True)


def test_questionnaires_and_crisis(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    q = client.get("/api/questionnaires/phq9").json()
    assert len(q["items"]) == 9 and q["choices"][3]["value"] == 3
    assert client.get("/api/questionnaires/bdi").status_code == 404
    ok = client.post(f"/api/profiles/{ada}/questionnaires", headers=csrf,
                     json={"instrument": "gad7", "answers": [1, 1, 1, 1, 1, 0, 0]})
    assert ok.status_code == 201
    assert ok.json()["score"] == 5 and ok.json()["severity"] == "Mild anxiety"
    assert ok.json()["crisis"] is None and "not a diagnosis" in ok.json()["note"]
    risk = client.post(f"/api/profiles/{ada}/questionnaires", headers=csrf,
                       json={"instrument": "phq9", "answers": [0] * 8 + [1], "locale": "GB"})
    crisis = risk.json()["crisis"]
    assert crisis is not None and crisis["resources"] and crisis["locale"] == "GB"
    bad = client.post(f"/api/profiles/{ada}/questionnaires", headers=csrf,
                      json={"instrument": "phq9", "answers": [0] * 8 + [4]})
    assert bad.status_code == 422 and "item 9" in bad.json()["detail"]
    short = client.post(f"/api/profiles/{ada}/questionnaires", headers=csrf,
                        json={"instrument": "phq9", "answers": [0, 1]})
    assert short.status_code == 422


def test_insights_report_and_finish(client: TestClient, csrf: dict[str, str], ada: str) -> None:
    r = client.post("/api/streams", json={"scene": LIGHT, "profile": ada}, headers=csrf)
    jid = r.json()["journal_session_id"]
    client.delete(f"/api/streams/{r.json()['id']}", headers=csrf)
    for phase, stress in (("before", 7), ("after", 3)):
        client.post(f"/api/profiles/{ada}/checkins", headers=csrf,
                    json={"phase": phase, "session_id": jid, "stress": stress})
    r = client.post(f"/api/profiles/{ada}/journal/sessions/{jid}/finish", headers=csrf,
                    json={"outcome": "completed", "duration_s": 600})
    assert r.status_code == 200
    assert client.post(f"/api/profiles/{ada}/journal/sessions/99999/finish", headers=csrf,
                       json={"outcome": "completed", "duration_s": 1}).status_code == 404
    ins = client.get(f"/api/profiles/{ada}/insights").json()
    assert ins["profile"] == ada and ins["summary"]
    assert any(s["before"] and s["after"] and s["after"]["stress"] == 3 for s in ins["series"])
    rep = client.get(f"/api/profiles/{ada}/report")
    assert rep.status_code == 200 and "attachment" in rep.headers["content-disposition"]
    assert "<html" in rep.text.lower()


# -- analyses --------------------------------------------------------------------------

def test_upload_analyse_soften(client: TestClient, csrf: dict[str, str], app_dir: Path) -> None:
    r = client.post("/api/analyses", headers=csrf,
                    files={"file": ("../../evil name.wav", _wav_bytes(), "audio/wav")})
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    assert r.json()["name"] == "evil name.wav"
    body = _wait(client, f"/api/analyses/{aid}")
    assert body["status"] == "done", body
    res = body["result"]
    assert res["path"] == "evil name.wav" and res["duration_s"] == pytest.approx(3.0, abs=0.01)
    assert any(abs(e["start_s"] - 1.0) < 0.1 for e in res["events"])
    rep = client.get(body["report_url"])
    assert rep.status_code == 200 and "evil name.wav" in rep.text
    uploads = sorted(p.name for p in (app_dir / "web" / "uploads").iterdir())
    assert all(not n.startswith(".") for n in uploads) and not any("evil" in n for n in uploads)
    assert client.post(f"/api/analyses/{aid}/soften", headers=csrf).status_code == 202
    t0 = time.monotonic()
    while (soft := client.get(f"/api/analyses/{aid}").json()["softened"])["status"] not in ("done", "error"):
        assert time.monotonic() - t0 < 60
        time.sleep(0.1)
    assert soft["status"] == "done", soft
    f = client.get(soft["download_url"])
    y, sr = sf.read(io.BytesIO(f.content))
    assert sr == 16000 and np.abs(y[16000:16200]).max() < 0.9
    assert client.get("/api/analyses/nope").status_code == 404
    listed = client.get("/api/analyses").json()
    assert any(a["id"] == aid and a["status"] == "done" for a in listed)


def test_hostile_uploads(client: TestClient, csrf: dict[str, str], app_dir: Path) -> None:
    r = client.post("/api/analyses", headers=csrf, files={"file": ("x.wav", b"#!/bin/sh\nrm -rf /\n", "audio/wav")})
    assert r.status_code == 415
    fake = b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk"  # the magic, but no audio
    assert client.post("/api/analyses", headers=csrf, files={"file": ("y.wav", fake)}).status_code == 415
    assert client.post("/api/analyses", headers=csrf, files={"other": ("z.wav", _wav_bytes())}).status_code == 422
    assert client.post("/api/analyses", headers=csrf, content=b"raw", ).status_code == 415
    left = [p.name for p in (app_dir / "web" / "uploads").iterdir() if p.name.startswith(".")]
    assert left == []


def test_oversized_upload_is_413(tmp_path: Path) -> None:
    for c in _client(ServerSettings(data_dir=tmp_path, token=TOKEN, max_upload_mb=0.1, render_workers=0)):
        c.get(f"/?token={TOKEN}")
        h = {"X-CSRF-Token": c.get("/api/me").json()["csrf"]}
        r = c.post("/api/analyses", headers=h, files={"file": ("big.wav", _wav_bytes(seconds=10))})
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        assert list((tmp_path / "web" / "uploads").iterdir()) == []


def test_sniff_and_display_name() -> None:
    assert sniff(b"RIFF\0\0\0\0WAVEfmt ") == "wav"
    assert sniff(b"fLaC\0\0\0\x22") == "flac"
    assert sniff(b"OggS\0\x02") == "ogg"
    assert sniff(b"ID3\x04\0") == "mp3" and sniff(b"\xff\xfb\x90\x00") == "mp3"
    assert sniff(b"<html>") is None and sniff(b"") is None
    assert display_name("C:\\x\\..\\a<b>.wav") == "ab.wav"
    assert display_name("") == "upload"


# -- help and settings -----------------------------------------------------------------

def test_help_routes(client: TestClient, csrf: dict[str, str]) -> None:
    loc = client.get("/api/locales").json()
    assert "GB" in loc["locales"] and loc["default"] in loc["locales"]
    for locale in loc["locales"]:
        c = client.get(f"/api/crisis?locale={locale}").json()
        assert c["resources"] and c["emergency"] and c["emergency"] in c["message"]
    note = client.get("/api/wellness").json()["note"]
    assert "Help" in note and "susurrus crisis" not in note
    assert "not" in note.lower() and "treat" not in note.lower().replace("treatment", "")


def test_export_and_delete_all(tmp_path: Path) -> None:
    for c in _client(ServerSettings(data_dir=tmp_path, token=TOKEN, render_workers=0)):
        c.get(f"/?token={TOKEN}")
        h = {"X-CSRF-Token": c.get("/api/me").json()["csrf"]}
        c.post("/api/profiles", json={"name": "bo"}, headers=h)
        c.post("/api/profiles/bo/checkins", json={"stress": 2}, headers=h)
        exp = c.get("/api/export")
        assert "attachment" in exp.headers["content-disposition"]
        doc = exp.json()
        assert [p["profile_name"] for p in doc["profiles"]] == ["bo"]
        one = c.get("/api/profiles/bo/export").json()
        assert one["profile"]["name"] == "bo" or "tables" in one
        assert c.delete("/api/data", headers=h).status_code == 422  # no confirmation
        assert c.delete("/api/data", headers={**h, "X-Confirm": "delete"}).status_code == 204
        assert c.get("/api/profiles").json() == []
        c.post("/api/profiles", json={"name": "cy"}, headers=h)
        assert c.delete("/api/profiles/cy", headers=h).status_code == 422
        assert c.delete("/api/profiles/cy", headers={**h, "X-Confirm": "delete"}).status_code == 204


# -- accounts mode ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    d = tmp_path_factory.mktemp("accounts")
    settings = ServerSettings(data_dir=d, auth="accounts", login_attempts=3, render_workers=0)
    app = create_app(settings)
    store = app.state.sus.store
    create_account(store, "alice", "correct horse battery")
    create_account(store, "bob", "another long password")
    with TestClient(app, base_url=BASE) as a, TestClient(app, base_url=BASE) as b:
        yield a, b


def _login(c: TestClient, user: str, pw: str) -> dict[str, str]:
    r = c.post("/api/login", json={"username": user, "password": pw})
    assert r.status_code == 200, r.text
    assert "HttpOnly" in r.headers["set-cookie"]
    return {"X-CSRF-Token": r.json()["csrf"]}


def test_accounts_isolate_data(accounts: tuple[TestClient, TestClient]) -> None:
    a, b = accounts
    assert a.get("/api/me").status_code == 401
    assert a.get("/api/profiles").status_code == 401
    ha = _login(a, "alice", "correct horse battery")
    hb = _login(b, "bob", "another long password")
    assert a.get("/api/me").json()["user"] == "alice"
    assert a.post("/api/profiles", json={"name": "me"}, headers=ha).status_code == 201
    assert b.post("/api/profiles", json={"name": "me"}, headers=hb).status_code == 201  # same name, own
    a.post("/api/profiles/me/checkins", json={"stress": 9, "note": "alice's secret"}, headers=ha)
    assert [p["name"] for p in b.get("/api/profiles").json()] == ["me"]
    assert all("alice" not in str(e) for e in b.get("/api/profiles/me/journal").json()["entries"])
    r = a.post("/api/streams", json={"scene": LIGHT}, headers=ha)
    sid = r.json()["id"]
    assert b.get(f"/api/streams/{sid}").status_code == 404
    assert b.get(f"/api/streams/{sid}/audio").status_code == 404
    assert b.delete(f"/api/streams/{sid}", headers=hb).status_code == 404
    up = a.post("/api/analyses", headers=ha, files={"file": ("a.wav", _wav_bytes(1.0))})
    assert b.get(f"/api/analyses/{up.json()['id']}").status_code == 404
    assert b.get(f"/api/analyses/{up.json()['id']}/report").status_code == 404
    # bob's CSRF token does not work in alice's session
    assert a.post("/api/profiles", json={"name": "x"}, headers=hb).status_code == 403
    assert a.post("/api/logout", headers=ha).status_code == 204
    assert a.get("/api/profiles").status_code == 401


def test_login_rate_limit_and_errors(accounts: tuple[TestClient, TestClient]) -> None:
    a, _ = accounts
    r = a.post("/api/login", json={"username": "nobody", "password": "whatever-pass"})
    assert r.status_code == 401
    codes = [a.post("/api/login", json={"username": "bob", "password": "wrong password!"}).status_code
             for _ in range(3)]
    assert codes[0] == 401 and codes[-1] == 429  # 3 failures per client address (and per user name)
    r = a.post("/api/login", json={"username": "bob", "password": "another long password"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_account_creation_rules(tmp_path: Path) -> None:
    from susurrus.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    create_account(store, "Carol", "a very good password")
    with pytest.raises(ParameterError, match="username"):
        create_account(store, "carol", "a very good password")
    with pytest.raises(ParameterError, match="password"):
        create_account(store, "dave", "short")
    with pytest.raises(ParameterError, match="username"):
        create_account(store, "../root", "a very good password")
    from sqlalchemy import select

    from susurrus.store import Account

    with store.session() as s:
        digest = s.execute(select(Account.password_hash)).scalar_one()
    assert digest.startswith("$argon2id$")
    store.close()


def test_resume_fade_in_pcm() -> None:
    from susurrus.api.streams import fade_in_pcm

    pcm = np.full((1000, 2), 10000, dtype="<i2").tobytes()
    out = np.frombuffer(fade_in_pcm(pcm, 2, 0, 2000), dtype="<i2").reshape(-1, 2)
    assert out[0, 0] == 0 and out[0, 1] == 0
    assert np.all(np.diff(out[:, 0].astype(int)) >= 0)  # rising, never a jump
    assert out[-1, 0] == pytest.approx(5000, abs=20)  # half way: raised cosine at 0.5
    rest = np.frombuffer(fade_in_pcm(pcm, 2, 2000, 2000), dtype="<i2")
    assert np.all(rest == 10000)


def test_reconnect_continues_the_session_and_fades_in(tmp_path: Path) -> None:
    """A second GET of a stream (play after pause) continues it, starting from silence."""
    from susurrus.api import serve_in_thread

    srv = serve_in_thread(ServerSettings(data_dir=tmp_path, token=TOKEN, render_workers=0), port=0)
    try:
        import httpx

        h = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=srv.url, headers=h, timeout=20) as c:
            sid = c.post("/api/streams", json={"scene": LIGHT}).json()["id"]

            def first_bytes(n: int) -> bytes:
                buf = b""
                with c.stream("GET", f"/api/streams/{sid}/audio") as r:
                    assert r.headers["content-type"] == "audio/wav"
                    for chunk in r.iter_bytes():
                        buf += chunk
                        if len(buf) >= n:
                            break
                return buf[44:n]

            first_bytes(44 + 4 * 48000)
            pos = c.get(f"/api/streams/{sid}").json()["position_s"]
            assert pos >= 1.0
            again = np.frombuffer(first_bytes(44 + 4 * 48000), dtype="<i2").reshape(-1, 2)
            assert c.get(f"/api/streams/{sid}").json()["position_s"] > pos
            head, body = np.abs(again[:480]).max(), np.abs(again[-4800:]).max()
            assert head < 0.05 * body and body > 100
    finally:
        srv.stop()
