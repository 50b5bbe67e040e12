"""End-to-end tests of the web page in a real browser (Debian's Chromium driven by Playwright).

Each test drives the page the way a listener would and saves a full-page screenshot to
``test-output/web/<page>.png``. The server runs in a thread on a free loopback port with a
fresh data directory; the browser opens ``/?token=…`` once per context to get its cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "e2e-token"
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "web"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from susurrus.api import ServerSettings, serve_in_thread

    data = tmp_path_factory.mktemp("web-e2e")
    srv = serve_in_thread(ServerSettings(data_dir=data, token=TOKEN), port=0)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, server: Any, *, first_run_done: bool = True, phone: bool = False) -> Any:
    """A fresh context and page, signed in with the token (the first-run check skipped unless asked)."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    # bypass_csp: Playwright evaluates its predicates as strings (the page itself runs under the CSP)
    ctx = browser.new_context(viewport=viewport, reduced_motion="reduce", bypass_csp=True)
    if first_run_done:
        ctx.add_init_script("localStorage.setItem('susurrus.firstRunDone', '1')")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(server.url + "/?token=" + TOKEN)
    page.wait_for_url(server.url + "/")
    page.wait_for_function("window.susurrus && window.susurrus.state.me")
    return page


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.mouse.wheel(0, -100_000)  # from the top, so the sticky header sits where it belongs
    page.wait_for_timeout(100)
    page.screenshot(path=str(path), full_page=True)
    return path


def _cookie_get(page: Any, server: Any, path: str) -> Any:
    """GET an API route with the page's own cookie (what the page sees)."""
    res = page.request.get(server.url + path)
    assert res.ok, (path, res.status, res.text())
    return res.json()


def _make_profile(page: Any, name: str) -> None:
    page.goto(page.url.split("#")[0] + "#/settings")
    page.fill("#settings-new-name", name)
    page.click("#settings-new-profile button[type=submit]")
    page.wait_for_function(
        "name => document.querySelector('#settings-profile').value === name", arg=name
    )


def _play_first_preset(page: Any) -> str:
    page.goto(page.url.split("#")[0] + "#/listen")
    page.wait_for_selector("#layers .layer")
    page.click("#play-button")
    if page.is_visible("#checkin-before"):
        page.click("#cb-skip")
    page.wait_for_function("window.susurrus.state.stream && window.susurrus.state.playing")
    page.wait_for_function("document.querySelector('#player').currentTime > 0.2", timeout=15_000)
    return str(page.evaluate("window.susurrus.state.stream.id"))


def test_first_run_headphone_check_and_volume(browser: Any, server: Any) -> None:
    page = _open(browser, server, first_run_done=False)
    overlay = page.locator("#first-run")
    overlay.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#fr-wellness').textContent.length > 20")
    _shot(page, "first-run")
    page.click("#first-run [data-next='2']")
    for side in ("left", "right", "both"):
        page.click(f"#hp-{side}")  # a soft panned noise burst through Web Audio
    _shot(page, "first-run-headphones")
    page.click("#first-run [data-next='3']")
    page.locator("#fr-volume").fill("0.35")
    page.click("#fr-done")
    assert overlay.is_hidden()
    assert page.evaluate("localStorage.getItem('susurrus.firstRunDone')") == "1"
    assert page.evaluate("localStorage.getItem('susurrus.volume')") == "0.35"
    # the Settings page can run it again
    page.goto(server.url + "/#/settings")
    page.click("#rerun-first")
    overlay.wait_for(state="visible")
    page.click("#first-run [data-step='1'] .fr-skip")
    assert overlay.is_hidden()
    assert page.errors == []  # type: ignore[attr-defined]


def test_play_preset_audio_flows(browser: Any, server: Any) -> None:
    page = _open(browser, server)
    sid = _play_first_preset(page)
    t0 = page.evaluate("document.querySelector('#player').currentTime")
    b0 = _cookie_get(page, server, f"/api/streams/{sid}")["bytes_sent"]
    page.wait_for_timeout(2500)
    t1 = page.evaluate("document.querySelector('#player').currentTime")
    b1 = _cookie_get(page, server, f"/api/streams/{sid}")["bytes_sent"]
    assert t1 - t0 > 1.0, f"the audio clock moved {t1 - t0:.2f} s in 2.5 s"
    assert b1 > b0, f"bytes_sent did not grow ({b0} -> {b1})"
    # the volume ramped up to the master volume (never a jump), and the page says it streams
    page.wait_for_function(
        "Math.abs(document.querySelector('#player').volume - window.susurrus.state.volume) < 0.01"
    )
    assert page.text_content("#stream-state") == "streaming"
    assert (
        page.evaluate("navigator.mediaSession.metadata && navigator.mediaSession.metadata.artist")
        == "Susurrus"
    )
    # a mix edit while playing goes to the server (debounced PUT)
    with page.expect_request(
        lambda r: r.method == "PUT" and r.url.endswith(f"/api/streams/{sid}/scene")
    ):
        page.locator("#layer-0-gain").fill("-20")
    _shot(page, "listen")
    # pause ramps down, resume continues the same stream
    page.click("#play-button")
    page.wait_for_function(
        "!window.susurrus.state.playing && document.querySelector('#play-button').textContent === 'Play'"
    )
    page.click("#play-button")
    page.wait_for_function(
        "window.susurrus.state.playing && document.querySelector('#player').currentTime > 0.2"
    )
    assert page.evaluate("window.susurrus.state.stream.id") == sid
    page.click("#stop-button")
    page.wait_for_function("!window.susurrus.state.stream")
    # share: the link reopens the edited mix
    page.click("#share-make")
    page.locator("#share-box").wait_for(state="visible")
    link = page.input_value("#share-link")
    assert link.startswith(server.url + "/#/listen?mix=")
    other = _open(browser, server)
    other.goto(link)
    other.wait_for_function(
        "window.susurrus.state.source && window.susurrus.state.source.kind === 'scene'"
    )
    assert other.input_value("#layer-0-gain") == "-20"
    # download: a rendered FLAC (1 minute)
    page.fill("#download-minutes", "1")
    page.click("#download-start")
    dl = page.locator("#download-result a")
    dl.wait_for(timeout=60_000)
    assert "FLAC" in (dl.text_content() or "")
    res = page.request.get(server.url + (dl.get_attribute("href") or ""))
    assert res.ok and res.body()[:4] == b"fLaC"
    _shot(page, "listen-share-download")
    assert page.errors == [] and other.errors == []  # type: ignore[attr-defined]


def test_sleep_timer_shows_fade(browser: Any, server: Any) -> None:
    page = _open(browser, server)
    sid = _play_first_preset(page)
    page.fill("#timer-minutes", "1")
    page.fill("#timer-fade", "60")
    page.click("#timer-start")
    page.wait_for_function("/left/.test(document.querySelector('#timer-status').textContent)")
    status = page.text_content("#timer-status") or ""
    # a 1-minute timer with a 60 s fade is fading from the start
    page.wait_for_function(
        "document.querySelector('#timer-status').dataset.fading === 'true'", timeout=8000
    )
    status = page.text_content("#timer-status") or ""
    assert "Fading" in status and ":" in status, status
    timer = _cookie_get(page, server, f"/api/streams/{sid}")["timer"]
    assert timer is not None and timer["fading"] and 0 < timer["remaining_s"] <= 60
    _shot(page, "listen-timer")
    page.click("#timer-plus")
    page.wait_for_function("document.querySelector('#timer-status').dataset.fading === 'false'")
    assert _cookie_get(page, server, f"/api/streams/{sid}")["timer"]["remaining_s"] > 15 * 60
    page.click("#timer-cancel")
    page.wait_for_function(
        "document.querySelector('#timer-status').textContent === 'No timer set.'"
    )
    # the shortest timer (30 s, the fade clipped to it) runs out: the page says "Sleep well"
    page.fill("#timer-minutes", "0.5")
    page.click("#timer-start")
    page.locator("#sleep-well").wait_for(state="visible", timeout=45_000)
    assert page.evaluate(
        "window.susurrus.state.stream === null && document.querySelector('#player').paused"
    )
    _shot(page, "listen-sleep-well")
    assert page.errors == []  # type: ignore[attr-defined]


def test_checkin_appears_in_journal(browser: Any, server: Any) -> None:
    page = _open(browser, server)
    _make_profile(page, "ada")
    _shot(page, "settings")
    page.goto(server.url + "/#/journal")
    page.locator("#ci-stress").fill("7")
    page.locator("#ci-calm").fill("3")
    page.fill("#ci-note", "long day")
    page.click("#checkin-form button[type=submit]")
    item = page.locator("#journal-list li[data-kind='checkin']").first
    item.wait_for()
    text = item.text_content() or ""
    assert "Stress 7" in text and "Calm 3" in text and "long day" in text, text
    entries = _cookie_get(page, server, "/api/profiles/ada/journal")["entries"]
    assert any(e["kind"] == "checkin" and e["stress"] == 7 for e in entries)
    _shot(page, "journal")
    # a session with before/after check-ins (offered around play, never forced)
    page.goto(server.url + "/#/listen")
    page.wait_for_selector("#layers .layer")
    page.click("#play-button")
    page.locator("#checkin-before").wait_for()
    page.locator("#cb-stress").fill("6")
    page.click("#cb-save")
    page.wait_for_function("window.susurrus.state.playing")
    page.click("#stop-button")
    page.locator("#checkin-after").wait_for()
    page.locator("#ca-stress").fill("2")
    page.click("#ca-save")
    page.locator("#checkin-after").wait_for(state="hidden")
    page.goto(server.url + "/#/journal")
    page.locator("#journal-list li[data-kind='session']").first.wait_for()
    session = page.locator("#journal-list li[data-kind='session']").first.text_content() or ""
    assert "before: stress 6" in session and "after: stress 2" in session, session
    page.locator("#insights-charts svg").first.wait_for()
    _shot(page, "journal-session")
    assert page.errors == []  # type: ignore[attr-defined]


def test_discover_clip_rating_grows_profile(browser: Any, server: Any) -> None:
    page = _open(browser, server)
    _make_profile(page, "cleo")
    page.goto(server.url + "/#/discover")
    page.locator("#beliefs .belief").first.wait_for()
    assert "0 ratings" in (page.text_content("#profile-counts") or "")
    page.click("#clip-next")
    page.locator("#rating-form").wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "document.querySelector('#clip-player').currentTime > 0.3", timeout=15_000
    )
    assert "Now playing" in (page.text_content("#clip-info") or "")
    page.locator("#rate-tingles").fill("8")
    page.locator("#rate-relax").fill("9")
    page.click("#rating-form button[type=submit]")
    page.wait_for_function(
        "/^1 rating/.test(document.querySelector('#profile-counts').textContent)"
    )
    assert _cookie_get(page, server, "/api/profiles/cleo")["ratings"] == 1
    # the avoid-list round-trips through PUT …/avoid
    page.check("#avoid-list input[value='clock']")
    page.click("#avoid-form button[type=submit]")
    page.locator(".belief.avoided").first.wait_for()
    assert page.locator("#avoid-list input").count() == 18
    assert _cookie_get(page, server, "/api/profiles/cleo")["avoid"] == ["clock"]
    _shot(page, "discover")
    # a personal session for a goal, with its "why this session" lines, plays as a stream
    page.goto(server.url + "/#/listen")
    page.click("#personal-box summary")
    page.select_option("#personal-goal", "sleep")
    page.click("#personal-make")
    page.locator("#why-panel").wait_for(state="visible")
    assert page.locator("#why-list li").count() >= 1
    page.click("#play-button")
    page.click("#cb-skip")
    page.wait_for_function(
        "window.susurrus.state.playing && document.querySelector('#player').currentTime > 0.2"
    )
    assert page.evaluate("window.susurrus.state.stream.journal_session_id") is not None
    assert not page.locator("#why-panel").is_hidden()
    _shot(page, "listen-personal")
    page.click("#stop-button")
    page.locator("#checkin-after").wait_for()
    page.click("#ca-skip")
    assert page.errors == []  # type: ignore[attr-defined]


def test_pages_work_under_csp_and_keyboard(browser: Any, server: Any) -> None:
    """The page's own Content-Security-Policy holds (no bypass) and the nav is keyboard operable."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    ctx.add_init_script("localStorage.setItem('susurrus.firstRunDone', '1')")
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(server.url + "/?token=" + TOKEN)
    page.locator("#layers .layer").first.wait_for()
    for name in ("discover", "journal", "analyse", "settings", "help", "listen"):
        page.click(f"[data-route='{name}']")
        page.locator(f"#page-{name}").wait_for(state="visible")
        assert page.get_attribute(f"[data-route='{name}']", "aria-current") == "page"
    page.locator("#help-resources li").first.wait_for(state="attached")
    # keyboard: from a fresh load, Tab reaches the nav links and Enter follows them
    page.reload()
    page.locator("#layers .layer").first.wait_for()
    page.keyboard.press("Tab")  # the skip link
    assert page.locator(":focus").get_attribute("class") == "skip-link"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.locator(":focus").get_attribute("data-route") == "discover"
    page.keyboard.press("Enter")
    page.locator("#page-discover").wait_for(state="visible")
    assert not any("Content Security Policy" in p or "Refused" in p for p in problems), problems
    assert problems == [], problems
    ctx.close()


def test_phq9_item9_shows_crisis_panel(browser: Any, server: Any) -> None:
    page = _open(browser, server)
    _make_profile(page, "ben")
    page.goto(server.url + "/#/journal")
    page.click("#q-phq9")
    page.locator("#q-items .q-item").nth(8).wait_for()
    assert page.locator("#q-items .q-item").count() == 9
    for i in range(8):
        page.check(f"input[name='q{i}'][value='0']")
    page.check("input[name='q8'][value='1']")  # item 9 above zero
    _shot(page, "phq9")
    page.click("#q-form button[type=submit]")
    panel = page.locator("#crisis-panel")
    panel.wait_for(state="visible", timeout=5000)
    assert page.locator("#crisis-resources li").count() >= 1
    assert "not a diagnosis" in (page.text_content("#q-result") or "")
    _shot(page, "crisis")
    # Help shows the resources for the chosen locale and the wellness note
    page.goto(server.url + "/#/help")
    page.locator("#help-resources li").first.wait_for()
    page.wait_for_function("document.querySelector('#help-wellness').textContent.length > 20")
    _shot(page, "help")
    assert page.errors == []  # type: ignore[attr-defined]


def test_upload_shows_report(browser: Any, server: Any, tmp_path: Path) -> None:
    import soundfile as sf

    sr = 22050
    rng = np.random.default_rng(8)
    t = np.arange(3 * sr) / sr
    y = 0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 220 * t)
    y[int(1.5 * sr) : int(1.52 * sr)] += 0.8  # a jarring click
    wav = tmp_path / "short.wav"
    sf.write(wav, np.stack([y, y], axis=1).astype(np.float32), sr, subtype="PCM_16")

    page = _open(browser, server)
    page.goto(server.url + "/#/analyse")
    page.set_input_files("#analyse-file", str(wav))
    page.click("#analyse-form button[type=submit]")
    page.locator("#analyse-summary").wait_for(state="visible", timeout=60_000)
    facts = page.text_content("#analyse-facts") or ""
    assert "Calm score" in facts and "LUFS" in facts, facts
    frame = page.frame_locator("#analyse-report")
    frame.locator("body").wait_for()
    assert "calm score" in (frame.locator("body").text_content() or "").lower()
    page.click("#soften-start")
    soft = page.locator("#soften-state a")
    soft.wait_for(timeout=60_000)
    res = page.request.get(server.url + (soft.get_attribute("href") or ""))
    assert res.ok and res.body()[:4] == b"fLaC"
    _shot(page, "analyse")
    # a phone-sized screen renders the Listen page readably (no horizontal scroll)
    phone = _open(browser, server, phone=True)
    phone.goto(server.url + "/#/listen")
    phone.wait_for_selector("#layers .layer")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(phone, "phone-listen")
    assert page.errors == [] and phone.errors == []  # type: ignore[attr-defined]


def test_delete_all_data(browser: Any, server: Any) -> None:
    """Runs last in this module: it deletes everything on the shared server."""
    page = _open(browser, server)
    _make_profile(page, "dora")
    page.click("#delete-all")
    page.locator("#confirm-dialog").wait_for(state="visible")
    _shot(page, "settings-delete")
    page.click("#confirm-dialog button[value='cancel']")
    assert any(p["name"] == "dora" for p in _cookie_get(page, server, "/api/profiles"))
    page.click("#delete-all")
    page.click("#confirm-yes")
    page.wait_for_function("document.querySelector('#status').textContent.includes('deleted')")
    assert _cookie_get(page, server, "/api/profiles") == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_accounts_mode_login(browser: Any, tmp_path: Path) -> None:
    from susurrus.api import ServerSettings, serve_in_thread
    from susurrus.api.security import create_account
    from susurrus.store import open_store

    settings = ServerSettings(data_dir=tmp_path, auth="accounts")
    create_account(open_store(settings.db_url), "night-owl", "correct horse battery")
    srv = serve_in_thread(settings, port=0)
    try:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        ctx.add_init_script("localStorage.setItem('susurrus.firstRunDone', '1')")
        page = ctx.new_page()
        page.goto(srv.url + "/")
        page.locator("#login").wait_for(state="visible")
        # help is one click away before signing in: the crisis resources are on the login page
        page.wait_for_function("document.querySelectorAll('#login-help-list li').length > 0")
        page.fill("#login-user", "night-owl")
        page.fill("#login-pass", "wrong password!")
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.querySelector('#login-error').textContent.length > 0")
        _shot(page, "login")
        page.fill("#login-pass", "correct horse battery")
        page.click("#login-form button[type=submit]")
        page.locator("#page-listen").wait_for(state="visible")
        page.wait_for_function("window.susurrus.state.csrf.length > 0")
        # a mutating request carries the CSRF token: creating a profile works
        page.goto(srv.url + "/#/settings")
        page.fill("#settings-new-name", "mine")
        page.click("#settings-new-profile button[type=submit]")
        page.wait_for_function("document.querySelector('#settings-profile').value === 'mine'")
        assert "night-owl" in (page.text_content("#account-line") or "")
        ctx.close()
    finally:
        srv.stop()
