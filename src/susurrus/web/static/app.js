/* Susurrus web page: plain JavaScript, no build step, no dependencies.
 *
 * Talks to the JSON API under /api/ (see the API contract). Every mutating request carries
 * the X-CSRF-Token from GET /api/me. The main stream plays through <audio id="player"> (not
 * Web Audio) so it keeps going with the screen locked; volume always ramps, never jumps.
 */
"use strict";

(() => {
  // ------------------------------------------------------------------ helpers
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const el = (tag, attrs = {}, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  };
  const SVG_NS = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs = {}, text) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
  const fmtTime = (s) => {
    s = Math.max(0, Math.floor(s || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  };
  /** m:ss.s — event times in a recording, to a tenth of a second. */
  const fmtClock = (s) => { s = Math.max(0, s || 0); const m = Math.floor(s / 60); return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0"); };
  const fmtNum = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : Number(x).toFixed(digits));
  const fmtWhen = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso || "") : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  };
  const enc = encodeURIComponent;
  const store = {
    get: (k, dflt = null) => { try { const v = localStorage.getItem("susurrus." + k); return v === null ? dflt : v; } catch { return dflt; } },
    set: (k, v) => { try { if (v === null) localStorage.removeItem("susurrus." + k); else localStorage.setItem("susurrus." + k, String(v)); } catch { /* private mode */ } },
  };
  const reducedMotion = () => window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  let statusTimer = 0;
  function say(text, kind = "info") {
    const box = $("#status");
    box.textContent = text;
    box.dataset.kind = kind;
    clearTimeout(statusTimer);
    if (text) statusTimer = setTimeout(() => { box.textContent = ""; }, kind === "error" ? 12000 : 6000);
  }

  // ------------------------------------------------------------------ state
  const S = {
    me: null,
    csrf: "",
    profile: store.get("profile"),
    locale: store.get("locale"),
    volume: clamp(parseFloat(store.get("volume", "0.6")) || 0.6, 0.05, 1),
    uploadLimit: 200 * 1024 * 1024,
    presets: [],
    triggers: [],
    profiles: [],
    scene: null,
    source: null, // {kind: "preset", name} | {kind: "personal", profile, goal} | {kind: "scene"}
    why: null,
    stream: null, // {id, audio_url, journal_session_id, profile, startedAt}
    playing: false,
    busy: false,
    loadCounter: 0,
    clockBase: 0,
    pollTimer: 0,
    editTimer: 0,
    lastBytes: 0,
    clip: null,
  };

  // ------------------------------------------------------------------ API
  class ApiError extends Error {
    constructor(status, detail, field) {
      super(detail || "HTTP " + status);
      this.status = status;
      this.field = field || null;
    }
  }

  async function api(method, path, body, opts = {}) {
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD" && S.csrf) headers["X-CSRF-Token"] = S.csrf;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (res.status === 204) return null;
    let data = null;
    const type = res.headers.get("content-type") || "";
    if (type.includes("json")) {
      try { data = await res.json(); } catch { data = null; }
    } else {
      data = await res.text();
    }
    if (!res.ok) {
      const detail = data && typeof data === "object" ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : String(data || res.statusText);
      if (res.status === 401 && !opts.quiet401) onUnauthorised();
      throw new ApiError(res.status, detail, data && data.field);
    }
    return data;
  }

  function report(err, prefix = "") {
    console.error(err);
    say((prefix ? prefix + ": " : "") + (err && err.message ? err.message : String(err)), "error");
  }

  function onUnauthorised() {
    if (S.me && S.me.mode === "token") {
      say("Your session has ended. Open the link printed by `susurrus serve` again.", "error");
    } else {
      showLogin();
    }
  }

  // ------------------------------------------------------------------ start-up
  async function boot() {
    bindStatic();
    buildSliders();
    try {
      S.me = await api("GET", "/api/me", undefined, { quiet401: true });
    } catch (err) {
      if (err.status === 401) { showLogin(); return; }
      report(err, "Could not reach Susurrus");
      return;
    }
    await afterLogin();
  }

  async function afterLogin() {
    S.csrf = S.me.csrf || "";
    $("#login").hidden = true;
    document.body.classList.remove("logged-out");
    $("#account-line").textContent = S.me.user ? "Signed in as " + S.me.user + "." : "";
    $("#logout").hidden = S.me.mode !== "accounts";
    await Promise.allSettled([loadCatalogue(), loadProfiles(), loadLocales()]);
    window.addEventListener("hashchange", route);
    route();
    if (!store.get("firstRunDone")) openFirstRun();
  }

  function showLogin() {
    for (const p of $$(".page")) p.hidden = true;
    document.body.classList.add("logged-out");
    $("#login").hidden = false;
    $("#login-user").focus();
    loadLoginHelp();
  }

  // Help needs no sign-in: the crisis resources and the wellness note are public.
  async function loadLoginHelp() {
    try {
      const r = await fetch("/api/crisis" + (store.get("locale") ? "?locale=" + encodeURIComponent(store.get("locale")) : ""));
      if (!r.ok) return;
      const c = await r.json();
      $("#login-help-message").textContent = c.message || "";
      const ul = $("#login-help-list");
      ul.textContent = "";
      for (const res of c.resources || []) {
        const li = document.createElement("li");
        const how = [res.call && "call " + res.call, res.text && "text " + res.text, res.url].filter(Boolean).join(" · ");
        li.textContent = res.name + (how ? ": " + how : "") + (res.hours ? " (" + res.hours + ")" : "");
        ul.appendChild(li);
      }
      $("#login-help-note").textContent = c.note || "";
    } catch (_) { /* offline: the form still works */ }
  }

  async function login(ev) {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      await api("POST", "/api/login", { username: $("#login-user").value, password: $("#login-pass").value }, { quiet401: true });
      S.me = await api("GET", "/api/me");
      $("#login-pass").value = "";
      await afterLogin();
    } catch (err) {
      $("#login-error").textContent = err.status === 429 ? "Too many attempts. Please wait a minute and try again."
        : err.status === 401 ? "That username and password do not match." : err.message;
    }
  }

  async function logout() {
    try { await api("POST", "/api/logout"); } catch (err) { report(err); }
    location.hash = "";
    location.reload();
  }

  async function loadCatalogue() {
    const [presets, triggers] = await Promise.all([api("GET", "/api/presets"), api("GET", "/api/triggers")]);
    S.presets = presets || [];
    S.triggers = triggers || [];
    const ps = $("#preset-select");
    ps.replaceChildren(...S.presets.map((p) => el("option", { value: p.name, text: titleCase(p.name) })));
    ps.dispatchEvent(new Event("change"));
    const fam = $("#add-family");
    fam.replaceChildren(...S.triggers.map((t) => el("option", { value: t.id, text: t.label || t.id })));
    fillVariants();
    renderAvoidList(null);
  }

  async function loadProfiles() {
    S.profiles = (await api("GET", "/api/profiles")) || [];
    if (S.profile && !S.profiles.some((p) => p.name === S.profile)) S.profile = null;
    if (!S.profile && S.profiles.length) setProfile(S.profiles[0].name, false);
    fillProfileSelects();
  }

  function fillProfileSelects() {
    for (const sel of $$(".profile-select")) {
      const opts = S.profiles.map((p) => el("option", { value: p.name, text: p.name }));
      if (!opts.length) opts.push(el("option", { value: "", text: "(no profile yet)" }));
      sel.replaceChildren(...opts);
      sel.value = S.profile || "";
    }
  }

  function setProfile(name, refresh = true) {
    S.profile = name || null;
    store.set("profile", S.profile);
    for (const sel of $$(".profile-select")) sel.value = S.profile || "";
    if (refresh) {
      const page = currentRoute().page;
      if (page === "discover") refreshProfileView();
      if (page === "journal") refreshJournal();
    }
  }

  async function createProfile(input) {
    const name = input.value.trim();
    if (!name) { input.focus(); return; }
    try {
      await api("POST", "/api/profiles", { name });
      input.value = "";
      await loadProfiles();
      setProfile(name);
      say("Profile “" + name + "” created.");
    } catch (err) { report(err, "Could not create the profile"); }
  }

  async function loadLocales() {
    let data = { locales: [], default: "INTL" };
    try { data = await api("GET", "/api/locales"); } catch (err) { report(err); }
    let regions = null;
    try { regions = new Intl.DisplayNames(["en"], { type: "region" }); } catch { /* old browser */ }
    const regionName = (code) => {
      if (code === "INTL") return "International";
      try { return (regions && regions.of(code)) || code; } catch { return code; }
    };
    const list = (data.locales || []).map((l) => (typeof l === "string" ? { code: l, name: regionName(l) } : { code: l.code || l.locale, name: l.name || l.country || regionName(l.code || l.locale) }));
    list.sort((a, b) => (a.code === "INTL" ? -1 : b.code === "INTL" ? 1 : a.name.localeCompare(b.name)));
    if (!S.locale || !list.some((l) => l.code === S.locale)) S.locale = data.default || (list[0] && list[0].code) || "";
    $("#settings-locale").replaceChildren(...list.map((l) => el("option", { value: l.code, text: l.name === l.code ? l.code : l.name + " (" + l.code + ")" })));
    $("#settings-locale").value = S.locale;
  }

  // ------------------------------------------------------------------ routing
  const PAGES = ["listen", "discover", "journal", "analyse", "help", "settings"];

  function currentRoute() {
    const h = location.hash.replace(/^#\/?/, "");
    const [path, query] = h.split("?");
    const page = PAGES.includes(path) ? path : "listen";
    return { page, params: new URLSearchParams(query || "") };
  }

  function route() {
    if (!$("#login").hidden) return;
    const { page, params } = currentRoute();
    for (const p of PAGES) $("#page-" + p).hidden = p !== page;
    for (const a of $$("[data-route]")) {
      if (a.dataset.route === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = "Susurrus · " + titleCase(page);
    const enter = { listen: enterListen, discover: refreshProfileView, journal: refreshJournal, help: refreshHelp, settings: enterSettings, analyse: () => {} }[page];
    Promise.resolve(enter(params)).catch((err) => report(err));
  }

  const titleCase = (s) => String(s || "").replace(/[-_]/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

  // ------------------------------------------------------------------ sliders (check-ins)
  const MEASURE_LABELS = { stress: "Stress", anxiety: "Anxiety", mood: "Mood", calm: "Calm", tingles: "Tingles" };
  const MEASURE_DEFAULT = { stress: 5, anxiety: 5, mood: 5, calm: 5, tingles: 0 };

  function buildSliders() {
    for (const box of $$(".sliders")) {
      const prefix = box.dataset.prefix;
      box.replaceChildren(...box.dataset.measures.split(",").map((m) => sliderRow(prefix + "-" + m, MEASURE_LABELS[m], 0, 10, 1, MEASURE_DEFAULT[m])));
    }
  }

  function sliderRow(id, label, min, max, step, value, fmt = (v) => String(v), onInput = null) {
    const input = el("input", { id, type: "range", min, max, step, value });
    const out = el("output", { for: id, id: id + "-out", text: fmt(value) });
    input.addEventListener("input", () => { out.textContent = fmt(input.valueAsNumber); if (onInput) onInput(input.valueAsNumber); });
    return el("div", { class: "slider-row" }, el("label", { for: id, text: label }), input, out);
  }

  function readMeasures(prefix) {
    const out = {};
    for (const m of ["stress", "anxiety", "mood", "calm", "tingles"]) {
      const input = $("#" + prefix + "-" + m);
      out[m] = input ? input.valueAsNumber : null;
    }
    return out;
  }

  async function postCheckin(profile, phase, prefix, sessionId, note = null) {
    return api("POST", "/api/profiles/" + enc(profile) + "/checkins", Object.assign({ phase, session_id: sessionId ?? null, note }, readMeasures(prefix)));
  }

  // ------------------------------------------------------------------ volume ramps
  const player = () => $("#player");
  const rampState = new WeakMap();

  /** Move audio.volume to `target` over `ms` with an equal-power curve; resolves when done. */
  function rampVolume(audio, target, ms) {
    const prev = rampState.get(audio);
    if (prev) prev.cancel();
    const start = audio.volume;
    const t0 = performance.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = () => { if (!done) { done = true; clearInterval(timer); rampState.delete(audio); resolve(); } };
      const timer = setInterval(() => {
        const x = clamp((performance.now() - t0) / Math.max(1, ms), 0, 1);
        // sine-shaped ease: no audible corner at either end
        const k = 0.5 - 0.5 * Math.cos(Math.PI * x);
        try { audio.volume = clamp(start + (target - start) * k, 0, 1); } catch { /* iOS: read-only */ }
        if (x >= 1) finish();
      }, 30);
      rampState.set(audio, { cancel: finish });
    });
  }

  // ------------------------------------------------------------------ Listen
  async function enterListen(params) {
    const mix = params.get("mix");
    if (mix && mix !== S.loadedShare) {
      S.loadedShare = mix;
      if (S.stream) await stopPlayback("stopped");
      try {
        const data = await api("GET", "/api/scenes/" + enc(mix));
        setScene(data.scene, { kind: "scene" }, null);
        say("Loaded the shared mix “" + (data.scene.name || "mix") + "”.");
      } catch (err) { report(err, "Could not open that share link"); }
    } else if (!S.scene && S.presets.length) {
      await loadPreset($("#preset-select").value || S.presets[0].name);
    }
  }

  async function loadPreset(name) {
    const p = S.presets.find((x) => x.name === name);
    if (!p) return;
    let scene = p.scene ? JSON.parse(JSON.stringify(p.scene)) : null;
    if (!scene) {
      try { scene = (await api("GET", "/api/scenes/" + enc(p.share))).scene; } catch (err) { report(err, "Could not load the preset"); }
    }
    if (scene) setScene(scene, { kind: "preset", name }, null);
  }

  function setScene(scene, source, why) {
    S.scene = scene;
    S.source = source;
    S.why = why;
    $("#scene-name").textContent = scene ? titleCase(scene.name || "Mix") : "No session loaded";
    $("#scene-description").textContent = scene && scene.description ? scene.description : "";
    const mins = scene && scene.duration_s ? Math.round(scene.duration_s / 60) : 30;
    $("#download-minutes").value = String(clamp(mins || 30, 1, 600));
    renderWhy();
    renderLayers();
    $("#share-box").hidden = true;
    updateMediaMetadata();
  }

  function renderWhy() {
    const lines = S.why || [];
    $("#why-panel").hidden = !lines.length;
    // lines starting with "- " belong under the line before them
    const items = [];
    for (const line of lines) {
      const sub = /^\s*[-•]\s+(.*)$/.exec(line);
      if (sub && items.length) {
        const last = items[items.length - 1];
        let ul = last.querySelector("ul");
        if (!ul) { ul = el("ul"); last.append(ul); }
        ul.append(el("li", { text: sub[1] }));
      } else {
        items.push(el("li", { text: line.replace(/:\s*$/, "") }));
      }
    }
    $("#why-list").replaceChildren(...items);
  }

  const MOTIONS = ["static", "sweep", "orbit", "drift", "approach"];

  function renderLayers() {
    const box = $("#layers");
    const layers = (S.scene && S.scene.layers) || [];
    if (!layers.length) { box.replaceChildren(el("p", { class: "empty", text: "No sounds in this mix yet. Add one below." })); return; }
    box.replaceChildren(...layers.map((layer, i) => layerCard(layer, i)));
  }

  function layerCard(layer, i) {
    const id = "layer-" + i;
    const trig = S.triggers.find((t) => t.id === layer.trigger);
    const title = (trig ? trig.label : titleCase(layer.trigger || layer.name)) + (layer.variant && layer.variant !== "default" ? " · " + layer.variant : "");
    const edit = (field) => (v) => { layer[field] = v; mixChanged(); };
    const gain = sliderRow(id + "-gain", "Volume", -60, 12, 0.5, layer.gain_db ?? 0, (v) => Number(v).toFixed(1) + " dB", edit("gain_db"));
    // SOFA convention: positive azimuth is to the listener's LEFT; the slider runs left → right
    const az = sliderRow(id + "-azimuth", "Direction", -180, 180, 5, -(layer.azimuth_deg ?? 0), fmtAzimuth, (v) => { layer.azimuth_deg = -v; mixChanged(); });
    const dist = sliderRow(id + "-distance", "Distance", 0.1, 5, 0.1, clamp(layer.distance_m ?? 1, 0.1, 5), (v) => Number(v).toFixed(1) + " m", edit("distance_m"));
    const motionSel = el("select", { id: id + "-motion" }, ...MOTIONS.map((m) => el("option", { value: m, text: titleCase(m) })));
    motionSel.value = layer.motion || "static";
    motionSel.addEventListener("change", () => { layer.motion = motionSel.value; mixChanged(); });
    const remove = el("button", { type: "button", class: "quiet", "aria-label": "Remove " + title, onclick: () => { S.scene.layers.splice(i, 1); renderLayers(); mixChanged(); } }, "Remove");
    return el("div", { class: "layer", role: "group", "aria-labelledby": id + "-title" },
      el("div", { class: "layer-head" }, el("h3", { id: id + "-title", text: title }), remove),
      gain, az, dist,
      el("div", { class: "slider-row" }, el("label", { for: id + "-motion", text: "Motion" }), motionSel, el("span")));
  }

  /** The slider value (−azimuth: negative = left) as words. */
  function fmtAzimuth(v) {
    v = Number(v);
    if (Math.abs(v) < 3) return "front";
    if (Math.abs(v) > 177) return "behind";
    return Math.round(Math.abs(v)) + "° " + (v < 0 ? "L" : "R");
  }

  function fillVariants() {
    const t = S.triggers.find((x) => x.id === $("#add-family").value);
    const vs = t ? t.variants || [] : [];
    $("#add-variant").replaceChildren(...vs.map((v) => el("option", { value: v, text: titleCase(v) })));
    if (t && t.default_variant) $("#add-variant").value = t.default_variant;
  }

  async function addLayer() {
    const trigger = $("#add-family").value;
    if (!trigger) return;
    if (!S.scene) S.scene = { name: "my-mix", layers: [] };
    const taken = new Set(S.scene.layers.map((l) => l.name));
    let name = trigger, n = 2;
    while (taken.has(name)) name = trigger + "-" + n++;
    S.scene.layers.push({ name, kind: "trigger", trigger, variant: $("#add-variant").value || null, params: {}, gain_db: -12, azimuth_deg: 0, distance_m: 1, motion: "static" });
    // normalise through the server so every field has its default
    try {
      const data = await api("POST", "/api/scenes/validate", { scene: S.scene });
      S.scene = data.scene;
    } catch (err) {
      S.scene.layers.pop();
      report(err, "Could not add that sound");
      return;
    }
    S.source = { kind: "scene" };
    renderLayers();
    mixChanged();
    say("Added " + titleCase(trigger) + ".");
  }

  /** A mix edit: debounce, then send to the live stream (if any). */
  function mixChanged() {
    if (S.source && S.source.kind !== "scene") S.source = { kind: "scene" };
    $("#share-box").hidden = true;
    clearTimeout(S.editTimer);
    S.editTimer = setTimeout(pushScene, 250);
  }

  async function pushScene() {
    if (!S.stream || !S.scene) return;
    try {
      await api("PUT", "/api/streams/" + enc(S.stream.id) + "/scene", { scene: S.scene });
    } catch (err) { report(err, "Could not change the mix"); }
  }

  // ---- play / pause / stop
  function streamBody() {
    const src = S.source || {};
    if (src.kind === "personal") return { profile: src.profile, goal: src.goal };
    // with a profile chosen, the server files the session in that profile's journal
    const who = S.profile ? { profile: S.profile } : {};
    if (src.kind === "preset") return Object.assign({ preset: src.name }, who);
    if (S.scene) return Object.assign({ scene: S.scene }, who);
    return null;
  }

  async function onPlayButton() {
    if (S.busy) return;
    if (S.playing) { await pausePlayback(); return; }
    if (S.stream) { await resumePlayback(); return; }
    if (!streamBody()) { say("Choose a preset or add a sound first."); return; }
    // a before check-in is offered (never forced) when there is a profile to file it under
    if (S.profile && store.get("offerCheckins", "1") === "1") {
      $("#checkin-after").hidden = true;
      $("#checkin-before").hidden = false;
      $("#cb-save").focus();
      return;
    }
    await startStream(false);
  }

  async function startStream(withCheckin) {
    $("#checkin-before").hidden = true;
    $("#checkin-after").hidden = true;
    $("#sleep-well").hidden = true;
    const body = streamBody();
    if (!body) return;
    S.busy = true;
    setPlayButton("Starting…", true);
    try {
      const data = await api("POST", "/api/streams", body);
      S.stream = { id: data.id, audio_url: data.audio_url, journal_session_id: data.journal_session_id ?? null, profile: S.profile, startedAt: Date.now() };
      S.lastBytes = 0;
      if (data.scene) {
        const why = data.why || (S.source && S.source.kind === "personal" ? S.why : null);
        S.scene = data.scene;
        S.why = why;
        $("#scene-name").textContent = titleCase(data.scene.name || "Mix");
        renderWhy();
        renderLayers();
      }
      if (withCheckin && S.profile) {
        try { await postCheckin(S.profile, "before", "cb", S.stream.journal_session_id); say("Check-in saved."); } catch (err) { report(err, "Could not save the check-in"); }
      }
      S.clockBase = 0;
      await startAudio();
      startPolling();
    } catch (err) {
      report(err, "Could not start the session");
      setPlayButton("Play", false);
    } finally {
      S.busy = false;
    }
  }

  async function startAudio() {
    const a = player();
    rampState.get(a)?.cancel();
    a.volume = 0;
    a.src = S.stream.audio_url + (S.loadCounter ? "?n=" + S.loadCounter : "");
    S.loadCounter += 1;
    S.playing = true;
    setPlayButton("Pause", false);
    $("#stop-button").disabled = false;
    setIndicator("buffering");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "playing";
    updateMediaMetadata();
    try {
      await a.play();
    } catch (err) {
      S.playing = false;
      setPlayButton("Play", false);
      setIndicator("idle");
      throw err;
    }
    rampVolume(a, S.volume, 1500);
  }

  async function pausePlayback() {
    const a = player();
    S.busy = true;
    setPlayButton("Pausing…", true);
    await rampVolume(a, 0, 1000);
    S.clockBase += a.currentTime || 0;
    a.pause();
    a.removeAttribute("src");
    a.load();
    S.playing = false;
    S.busy = false;
    setPlayButton("Play", false);
    setIndicator("paused");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "paused";
  }

  async function resumePlayback() {
    S.busy = true;
    try { await startAudio(); } catch (err) { report(err, "Could not resume"); } finally { S.busy = false; }
  }

  /** Stop for good: fade out, end the stream, close the journal session, offer the after check-in. */
  async function stopPlayback(outcome = "stopped") {
    const st = S.stream;
    if (!st) return;
    if (S.playing) {
      await rampVolume(player(), 0, outcome === "completed" ? 200 : 1000);
      S.clockBase += player().currentTime || 0;
    }
    const a = player();
    a.pause();
    a.removeAttribute("src");
    a.load();
    S.playing = false;
    S.stream = null;
    stopPolling();
    setPlayButton("Play", false);
    $("#stop-button").disabled = true;
    setIndicator("idle");
    $("#timer-status").textContent = "No timer set.";
    $("#timer-status").dataset.fading = "false";
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "none";
    // DELETE /api/streams/{id} frees the stream and closes its journal session (completed or not)
    let closedByServer = false;
    try { await api("DELETE", "/api/streams/" + enc(st.id)); closedByServer = true; } catch (err) { if (err.status !== 404) report(err); }
    if (st.journal_session_id && st.profile && !closedByServer) {
      const duration_s = (Date.now() - st.startedAt) / 1000;
      try { await api("POST", "/api/profiles/" + enc(st.profile) + "/journal/sessions/" + enc(st.journal_session_id) + "/finish", { outcome, duration_s }); } catch (err) { report(err); }
    }
    if (outcome === "completed") $("#sleep-well").hidden = false;
    if (st.profile && store.get("offerCheckins", "1") === "1") {
      S.afterFor = st;
      $("#checkin-after").hidden = false;
    }
  }

  function setPlayButton(text, disabled) {
    const b = $("#play-button");
    b.textContent = text;
    b.disabled = !!disabled;
    b.setAttribute("aria-pressed", S.playing ? "true" : "false");
  }

  function setIndicator(state) {
    const ind = $("#stream-indicator");
    ind.dataset.state = state;
    $("#stream-state").textContent = { streaming: "streaming", buffering: "buffering…", paused: "paused", idle: "not playing" }[state] || state;
  }

  // ---- polling the stream status (timer, fade, finished)
  function startPolling() {
    stopPolling();
    S.pollTimer = setInterval(pollStream, 2000);
    pollStream();
  }
  function stopPolling() { clearInterval(S.pollTimer); S.pollTimer = 0; }

  async function pollStream() {
    const st = S.stream;
    if (!st) return;
    let info;
    try { info = await api("GET", "/api/streams/" + enc(st.id)); } catch (err) {
      if (err.status === 404) { stopPlayback("completed"); }
      return;
    }
    if (S.stream !== st) return;
    S.lastBytes = info.bytes_sent;
    showTimer(info.timer);
    if (info.finished) { await stopPlayback("completed"); return; }
    // the connection dropped while the session goes on: reconnect (same session, a few times)
    const a = player();
    if (S.playing && !S.busy && (a.ended || a.error) && (st.reconnects = (st.reconnects || 0) + 1) <= 5) {
      say("Reconnecting…");
      startAudio().catch((err) => report(err, "Could not reconnect"));
    }
  }

  function showTimer(timer) {
    const box = $("#timer-status");
    if (!timer) { box.textContent = "No timer set."; box.dataset.fading = "false"; return; }
    const left = fmtTime(timer.remaining_s);
    box.dataset.fading = timer.fading ? "true" : "false";
    box.textContent = timer.fading ? "Fading… " + left + " left." : "Sleep timer: " + left + " left, then a " + Math.round(timer.fade_s) + " s fade.";
  }

  async function timerAction(kind) {
    if (!S.stream) { say("Start playing first, then set the timer."); return; }
    const base = "/api/streams/" + enc(S.stream.id) + "/timer";
    try {
      if (kind === "start") {
        const minutes = parseFloat($("#timer-minutes").value);
        const fade_s = parseFloat($("#timer-fade").value);
        if (!(minutes > 0)) { say("Enter the minutes for the timer.", "error"); return; }
        if (!(fade_s >= 60 && fade_s <= 1800)) { say("The fade must be between 60 and 1800 seconds.", "error"); return; }
        await api("POST", base, { minutes, fade_s });
      } else if (kind === "plus" || kind === "minus") {
        await api("POST", base + "/extend", { minutes: kind === "plus" ? 15 : -15 });
      } else {
        await api("DELETE", base);
      }
      await pollStream();
    } catch (err) { report(err, "Timer"); }
  }

  // ---- personal session
  async function makePersonal() {
    const profile = $("#personal-profile").value;
    const goal = $("#personal-goal").value;
    if (!profile) { say("Create a profile first (Discover or Settings)."); return; }
    if (S.stream) await stopPlayback("stopped");
    try {
      const data = await api("POST", "/api/profiles/" + enc(profile) + "/sessions", { goal });
      setScene(data.scene, { kind: "personal", profile, goal }, data.why || null);
      say("Your personal session is ready. Press Play.");
    } catch (err) { report(err, "Could not prepare a personal session"); }
  }

  // ---- share and download
  async function makeShare() {
    if (!S.scene) return;
    try {
      const data = await api("POST", "/api/scenes/validate", { scene: S.scene });
      $("#share-link").value = location.origin + "/#/listen?mix=" + data.share;
      $("#share-box").hidden = false;
      $("#share-link").select();
    } catch (err) { report(err, "Could not make a link"); }
  }

  async function copyShare() {
    const text = $("#share-link").value;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      $("#share-link").select();
      document.execCommand && document.execCommand("copy");
    }
    say("Link copied.");
  }

  async function startDownload() {
    if (!S.scene) return;
    const minutes = clamp(parseFloat($("#download-minutes").value) || 30, 1, 600);
    const duration_s = minutes * 60;
    const format = duration_s > 1800 ? "ogg" : "flac";
    const prog = $("#download-progress");
    const out = $("#download-result");
    prog.hidden = false;
    prog.value = 0;
    out.textContent = "Rendering " + format.toUpperCase() + "…";
    try {
      const { id } = await api("POST", "/api/renders", { scene: S.scene, format, duration_s });
      for (;;) {
        await sleep(1000);
        const r = await api("GET", "/api/renders/" + enc(id));
        prog.value = r.progress || 0;
        if (r.status === "done") {
          const href = r.download_url || "/api/renders/" + enc(id) + "/file";
          out.replaceChildren(el("a", { href, download: "", class: "button primary", text: "Download " + format.toUpperCase() }));
          break;
        }
        if (r.status === "error") throw new Error(r.error || "render failed");
      }
    } catch (err) {
      out.textContent = "";
      report(err, "Could not render the file");
    } finally {
      prog.hidden = true;
    }
  }

  // ---- Media Session (lock-screen controls)
  function updateMediaMetadata() {
    if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
    navigator.mediaSession.metadata = new MediaMetadata({ title: S.scene ? titleCase(S.scene.name || "Mix") : "Susurrus", artist: "Susurrus", album: "Susurrus" });
  }

  function bindMediaSession() {
    if (!("mediaSession" in navigator)) return;
    const ms = navigator.mediaSession;
    const set = (action, fn) => { try { ms.setActionHandler(action, fn); } catch { /* unsupported action */ } };
    set("play", () => { if (!S.playing) onPlayButton(); });
    set("pause", () => { if (S.playing) pausePlayback(); });
    set("stop", () => stopPlayback("stopped"));
  }

  // ------------------------------------------------------------------ Discover
  async function refreshProfileView() {
    const name = S.profile;
    $("#rating-form").hidden = !S.clip;
    if (!name) {
      $("#profile-counts").textContent = "Create a profile to start.";
      $("#profile-sensitivity").textContent = "";
      $("#beliefs").replaceChildren();
      renderAvoidList(null);
      return;
    }
    try {
      renderProfile(await api("GET", "/api/profiles/" + enc(name)));
    } catch (err) { report(err, "Could not load the profile"); }
  }

  function renderProfile(p) {
    const n = p.ratings || 0;
    $("#profile-counts").textContent = n + (n === 1 ? " rating" : " ratings") + (p.usable ? " · enough to personalise sessions" : " · rate a few more clips to personalise sessions") +
      (p.top && p.top.length ? (n ? " · favourites so far: " : " · a first guess: ") + p.top.map(labelOf).join(", ") : "");
    $("#profile-sensitivity").textContent = p.sensitivity && p.sensitivity.message ? p.sensitivity.message : "";
    const avoided = (b) => !!(b.avoided || (p.avoid || []).includes(b.family));
    const beliefs = (p.beliefs || p.families || []).slice().sort((a, b) => avoided(a) - avoided(b) || (b.mean || 0) - (a.mean || 0));
    const scale = beliefs.some((b) => b.mean > 1.0001) ? 10 : 1;
    $("#beliefs").replaceChildren(...beliefs.map((b) => {
      const pct = clamp((b.mean / scale) * 100, 0, 100);
      const lo = clamp(((b.mean - (b.sd || 0)) / scale) * 100, 0, 100);
      const hi = clamp(((b.mean + (b.sd || 0)) / scale) * 100, 0, 100);
      const label = b.label || labelOf(b.family);
      return el("div", { class: "belief" + (avoided(b) ? " avoided" : ""), role: "img", "aria-label": label + ": " + fmtNum(b.mean) + " of " + scale + " from " + (b.n || 0) + " ratings" },
        el("span", { text: label }),
        el("span", { class: "bar" }, el("i", { style: "left:" + lo + "%;width:" + (hi - lo) + "%" }), el("span", { style: "width:" + pct + "%" })),
        el("span", { class: "val", text: fmtNum(b.mean) + (b.n ? " (" + b.n + ")" : ""), title: b.n ? b.n + " rating(s)" : "no ratings yet" }));
    }));
    renderAvoidList(p.avoid || []);
  }

  const labelOf = (id) => { const t = S.triggers.find((x) => x.id === id); return t ? t.label : titleCase(id); };

  function renderAvoidList(avoid) {
    const box = $("#avoid-list");
    box.replaceChildren(...S.triggers.map((t) => el("label", {}, el("input", { type: "checkbox", value: t.id, checked: !!(avoid && avoid.includes(t.id)), disabled: !S.profile }), t.label || t.id)));
  }

  async function saveAvoid(ev) {
    ev.preventDefault();
    if (!S.profile) return;
    const families = $$("#avoid-list input:checked").map((i) => i.value);
    try {
      renderProfile(await api("PUT", "/api/profiles/" + enc(S.profile) + "/avoid", { families }));
      say("Avoid-list saved.");
    } catch (err) { report(err, "Could not save the avoid-list"); }
  }

  async function nextClip() {
    if (!S.profile) { say("Create or choose a profile first."); $("#discover-new-name").focus(); return; }
    const btn = $("#clip-next");
    btn.disabled = true;
    $("#clip-info").textContent = "Preparing a clip…";
    try {
      const clip = await api("POST", "/api/profiles/" + enc(S.profile) + "/clips");
      S.clip = clip;
      $("#clip-info").textContent = "Now playing: " + (clip.label || labelOf(clip.family)) + (clip.variant && clip.variant !== "default" ? " (" + clip.variant + ")" : "") + " · " + Math.round(clip.duration_s || 0) + " s";
      $("#rate-tingles").value = "0"; $("#rate-tingles-out").textContent = "0";
      $("#rate-relax").value = "5"; $("#rate-relax-out").textContent = "5";
      $("#rate-unpleasant").checked = false;
      $("#rating-form").hidden = false;
      await playClip();
    } catch (err) {
      $("#clip-info").textContent = "No clip yet.";
      report(err, "Could not make a clip");
    } finally { btn.disabled = false; }
  }

  async function playClip() {
    if (!S.clip) return;
    const a = $("#clip-player");
    if (S.playing) await pausePlayback();
    a.volume = 0;
    a.src = S.clip.audio_url;
    try { await a.play(); rampVolume(a, S.volume, 1500); } catch (err) { report(err, "Could not play the clip"); }
  }

  async function submitRating(ev) {
    ev.preventDefault();
    if (!S.clip || !S.profile) return;
    const a = $("#clip-player");
    const body = { clip_id: S.clip.id, tingles: $("#rate-tingles").valueAsNumber, relax: $("#rate-relax").valueAsNumber, unpleasant: $("#rate-unpleasant").checked };
    try {
      const summary = await api("POST", "/api/profiles/" + enc(S.profile) + "/ratings", body);
      if (!a.paused) { await rampVolume(a, 0, 1000); a.pause(); }
      S.clip = null;
      $("#rating-form").hidden = true;
      $("#clip-info").textContent = "Thank you. Play the next clip when you are ready.";
      renderProfile(summary);
      const entry = S.profiles.find((p) => p.name === S.profile);
      if (entry) entry.ratings = summary.ratings;
    } catch (err) { report(err, "Could not save the rating"); }
  }

  // ------------------------------------------------------------------ Journal
  async function refreshJournal() {
    const name = S.profile;
    $("#report-link").href = name ? "/api/profiles/" + enc(name) + "/report" : "#";
    $("#report-link").toggleAttribute("aria-disabled", !name);
    if (!name) {
      $("#journal-list").replaceChildren(el("li", { class: "empty", text: "Create a profile (Discover or Settings) to keep a journal." }));
      $("#insights-summary").replaceChildren();
      $("#insights-charts").replaceChildren();
      return;
    }
    if (!$("#sl-night").value) {
      const d = new Date(Date.now() - 86400000);
      $("#sl-night").value = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
    }
    await Promise.allSettled([refreshEntries(name), refreshInsights(name)]);
  }

  async function refreshEntries(name) {
    try {
      const data = await api("GET", "/api/profiles/" + enc(name) + "/journal");
      const entries = (data && data.entries) || [];
      $("#journal-list").replaceChildren(...(entries.length ? entries.map(entryItem) : [el("li", { class: "empty", text: "No entries yet." })]));
    } catch (err) { report(err, "Could not load the journal"); }
  }

  function entryItem(e) {
    const parts = [];
    const m = (k) => (e[k] !== null && e[k] !== undefined ? MEASURE_LABELS[k] + " " + e[k] : null);
    let title = titleCase(e.kind);
    if (e.kind === "checkin") {
      title = "Check-in" + (e.phase && e.phase !== "standalone" ? " (" + e.phase + ")" : "");
      parts.push(...["stress", "anxiety", "mood", "calm", "tingles"].map(m).filter(Boolean));
      if (e.note) parts.push("“" + e.note + "”");
    } else if (e.kind === "session") {
      title = "Session";
      for (const k of ["preset", "family", "goal", "outcome"]) if (e[k]) parts.push(k === "family" ? labelOf(e[k]) : String(e[k]));
      if (e.duration_s) parts.push(fmtTime(e.duration_s));
      const pair = (ph) => { const c = e[ph]; if (!c) return null; const xs = ["stress", "calm", "mood"].filter((k) => c[k] !== null && c[k] !== undefined).map((k) => k + " " + c[k]); return xs.length ? ph + ": " + xs.join(", ") : null; };
      parts.push(...[pair("before"), pair("after")].filter(Boolean));
    } else if (e.kind === "sleep") {
      title = "Sleep diary";
      if (e.night) parts.push("night of " + e.night);
      if (e.quality) parts.push("quality " + e.quality + "/5");
      const met = e.metrics || e;
      if (met.se_pct !== undefined) parts.push("efficiency " + fmtNum(met.se_pct, 0) + "%");
      if (met.tst_min !== undefined) parts.push("slept " + fmtTime(met.tst_min * 60).replace(/:00$/, "") + " h");
    } else if (e.kind === "questionnaire") {
      title = (e.instrument || "").toUpperCase().replace("PHQ9", "PHQ-9").replace("GAD7", "GAD-7") || "Questionnaire";
      if (e.score !== undefined) parts.push("score " + e.score + (e.max_score ? "/" + e.max_score : ""));
      if (e.severity) parts.push(e.severity);
    } else if (e.kind === "hr") {
      title = "Heart rate";
      if (e.mean_bpm) parts.push(fmtNum(e.mean_bpm, 0) + " bpm");
    }
    const when = /^\d{4}-\d\d-\d\d$/.test(String(e.at)) ? new Date(e.at + "T12:00:00").toLocaleDateString([], { dateStyle: "medium" }) : fmtWhen(e.at);
    return el("li", { "data-kind": e.kind }, el("span", { class: "when", text: when }), el("span", { class: "kind", text: title }), parts.length ? " — " + parts.join(" · ") : "");
  }

  async function submitCheckin(ev) {
    ev.preventDefault();
    if (!S.profile) { say("Create a profile first."); return; }
    try {
      await postCheckin(S.profile, "standalone", "ci", null, $("#ci-note").value.trim() || null);
      $("#ci-note").value = "";
      say("Check-in saved.");
      await refreshJournal();
    } catch (err) { report(err, "Could not save the check-in"); }
  }

  async function submitSleep(ev) {
    ev.preventDefault();
    if (!S.profile) { say("Create a profile first."); return; }
    const v = (id) => $("#" + id).value;
    const body = {
      night: v("sl-night"), bedtime: v("sl-bedtime"), lights_out: v("sl-lights"),
      sleep_latency_min: +v("sl-latency"), awakenings: +v("sl-awakenings"), wake_after_sleep_onset_min: +v("sl-waso"),
      final_wake: v("sl-wake"), out_of_bed: v("sl-out"), quality: +v("sl-quality"), note: v("sl-note").trim() || null,
    };
    try {
      const res = await api("POST", "/api/profiles/" + enc(S.profile) + "/sleep", body);
      const met = (res && res.metrics) || {};
      $("#sleep-result").textContent = "Saved." + (met.se_pct !== undefined ? " Sleep efficiency " + fmtNum(met.se_pct, 0) + "%." : "") + (met.tst_min !== undefined ? " Total sleep " + fmtNum(met.tst_min / 60, 1) + " h." : "");
      await refreshJournal();
    } catch (err) { report(err, "Could not save the night"); }
  }

  async function openQuestionnaire(instrument) {
    if (!S.profile) { say("Create a profile first."); return; }
    try {
      const q = await api("GET", "/api/questionnaires/" + enc(instrument));
      const form = $("#q-form");
      form.dataset.instrument = instrument;
      $("#q-form-title").textContent = q.title || instrument.toUpperCase();
      $("#q-prompt").textContent = q.prompt || "";
      $("#q-error").textContent = "";
      $("#q-result").hidden = true;
      $("#q-items").replaceChildren(...(q.items || []).map((text, i) => el("fieldset", { class: "q-item" },
        el("legend", { text: (i + 1) + ". " + text }),
        el("div", { class: "q-choices" }, ...(q.choices || []).map((c) => el("label", {},
          el("input", { type: "radio", name: "q" + i, value: c.value, required: i === 0 ? true : null }), c.label))))));
      form.hidden = false;
      $("#q-items input").focus();
    } catch (err) { report(err, "Could not load the questionnaire"); }
  }

  async function submitQuestionnaire(ev) {
    ev.preventDefault();
    const form = $("#q-form");
    const items = $$(".q-item", form);
    const answers = items.map((_, i) => { const c = $("input[name='q" + i + "']:checked", form); return c ? Number(c.value) : null; });
    const missing = answers.findIndex((a) => a === null);
    if (missing >= 0) { $("#q-error").textContent = "Please answer question " + (missing + 1) + "."; $("input[name='q" + missing + "']", form).focus(); return; }
    try {
      const res = await api("POST", "/api/profiles/" + enc(S.profile) + "/questionnaires", { instrument: form.dataset.instrument, answers, locale: S.locale || null });
      if (res.crisis) showCrisis(res.crisis); // at once, before anything else
      const box = $("#q-result");
      box.replaceChildren(
        el("p", { class: "score" }, "Score " + res.score + (res.max_score ? " of " + res.max_score : ""), res.severity ? " · " + res.severity : ""),
        el("p", { class: "muted", text: res.note || "This is a screening aid, not a diagnosis." }));
      box.hidden = false;
      form.hidden = true;
      refreshJournal();
    } catch (err) { $("#q-error").textContent = err.message; }
  }

  function resourceItem(r) {
    const ways = [];
    const call = r.call || r.phone;
    if (call) ways.push(el("span", {}, "Call ", el("a", { href: "tel:" + String(call).replace(/[^0-9+]/g, ""), text: call })));
    if (r.text) ways.push(el("span", {}, (ways.length ? " · " : "") + "Text " + r.text));
    if (r.url) ways.push(el("span", {}, ways.length ? " · " : "", el("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: r.url.replace(/^https?:\/\//, "") })));
    return el("li", {}, el("span", { class: "name", text: r.name }), el("span", { class: "how" }, ...ways), r.hours ? el("span", { class: "hours", text: " (" + r.hours + ")" }) : null);
  }

  function fillCrisis(c, listSel, emergencySel, messageSel) {
    $(listSel).replaceChildren(...((c && c.resources) || []).map(resourceItem));
    $(emergencySel).textContent = c && c.emergency ? "In an emergency, call " + c.emergency + "." : "";
    if (messageSel && c && c.message) $(messageSel).textContent = c.message;
  }

  function showCrisis(c) {
    fillCrisis(c, "#crisis-resources", "#crisis-emergency", "#crisis-message");
    const panel = $("#crisis-panel");
    panel.hidden = false;
    panel.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "start" });
    panel.focus({ preventScroll: true });
  }

  // ---- insights charts (inline SVG)
  async function refreshInsights(name) {
    let ins;
    try { ins = await api("GET", "/api/profiles/" + enc(name) + "/insights"); } catch (err) {
      if (err.status !== 404) report(err, "Could not load insights");
      return;
    }
    const summary = (ins && ins.summary) || [];
    $("#insights-summary").replaceChildren(...(summary.length ? summary.map((l) => el("li", { text: l })) : [el("li", { class: "muted", text: "Insights appear after a few sessions with before and after check-ins." })]));
    $("#insights-charts").replaceChildren(...buildCharts(ins || {}));
  }

  function buildCharts(ins) {
    const out = [];
    const charts = Object.assign({}, ins.charts || {});
    // ins.series: per session {at, before: {stress, ...}, after: {...}} -> one chart per measure
    const series = (ins.series || []).slice().sort((a, b) => String(a.at).localeCompare(String(b.at)));
    for (const m of ["stress", "calm", "mood", "anxiety"]) {
      if (charts[m]) continue;
      const rows = series.map((r) => ({ at: r.at, before: r.before ? r.before[m] : null, after: r.after ? r.after[m] : null }))
        .filter((r) => (r.before ?? null) !== null || (r.after ?? null) !== null);
      if (rows.length) charts[m] = rows;
    }
    for (const [measure, rows] of Object.entries(charts)) {
      if (Array.isArray(rows) && rows.length) out.push(lineChart(titleCase(measure) + " before and after sessions", rows, [["before", "before"], ["after", "after"]], 10));
    }
    const overall = ins.overall || {};
    const bars = Object.entries(overall).filter(([, c]) => c && c.n).map(([m, c]) => ({ label: titleCase(m), before: c.mean_before, after: c.mean_after, n: c.n }));
    if (bars.length) out.push(pairedBars("Average before and after (0–10)", bars));
    const weeks = ins.sleep_weeks || [];
    if (weeks.length) out.push(lineChart("Sleep efficiency by week (%)", weeks.map((w) => ({ at: w.week_start || w.week, se: w.se_pct })), [["se", "after"]], 100));
    const tingles = Object.entries(ins.tingles_by_family || {});
    if (tingles.length) out.push(pairedBars("Tingles after sessions, by sound", tingles.map(([f, v]) => ({ label: labelOf(f), after: v.mean, n: v.n }))));
    const qs = ins.questionnaires || [];
    for (const inst of ["phq9", "gad7"]) {
      const rows = qs.filter((q) => q.instrument === inst && q.score !== undefined);
      if (rows.length) out.push(lineChart((inst === "phq9" ? "PHQ-9" : "GAD-7") + " score", rows.map((q) => ({ at: q.at || q.taken_at, score: q.score })), [["score", "after"]], inst === "phq9" ? 27 : 21));
    }
    return out;
  }

  function chartFigure(title, node, legend) {
    const cap = el("figcaption", {}, title);
    if (legend) {
      const keys = el("span", { class: "legend" });
      for (const [cls, text] of legend) keys.append(el("span", { class: "legend-key " + cls }), text);
      cap.append(keys);
    }
    return el("div", { class: "chart" }, el("figure", {}, cap, node));
  }

  function lineChart(title, rows, series, maxY) {
    const W = 320, H = 150, L = 28, R = 8, T = 8, B = 22;
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
    const x = (i) => L + (rows.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (rows.length - 1));
    const y = (v) => T + (1 - clamp(v / maxY, 0, 1)) * (H - T - B);
    for (const g of [0, 0.5, 1]) {
      s.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(g * maxY), y2: y(g * maxY) }));
      s.append(svg("text", { x: L - 4, y: y(g * maxY) + 3, "text-anchor": "end" }, String(Math.round(g * maxY))));
    }
    for (const [key, cls] of series) {
      const pts = rows.map((r, i) => (r[key] === null || r[key] === undefined ? null : [x(i), y(r[key])])).filter(Boolean);
      if (pts.length > 1) s.append(svg("polyline", { class: "line " + cls, points: pts.map((p) => p.join(",")).join(" "), fill: "none" }));
      for (const [px, py] of pts) s.append(svg("circle", { class: cls, cx: px, cy: py, r: 2.6 }));
    }
    const first = rows[0] && rows[0].at, last = rows[rows.length - 1] && rows[rows.length - 1].at;
    const short = (a) => { const d = new Date(a); return Number.isNaN(d.getTime()) ? String(a || "") : d.toLocaleDateString([], { month: "short", day: "numeric" }); };
    if (first) s.append(svg("text", { x: L, y: H - 6 }, short(first)));
    if (last && rows.length > 1) s.append(svg("text", { x: W - R, y: H - 6, "text-anchor": "end" }, short(last)));
    return chartFigure(title, s, series.length > 1 ? series.map(([k, cls]) => [cls, k]) : null);
  }

  function pairedBars(title, rows) {
    const W = 320, rowH = 22, L = 96, R = 34, T = 4;
    const H = T + rows.length * rowH + 4;
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
    const maxV = 10;
    const w = (v) => (clamp(v || 0, 0, maxV) / maxV) * (W - L - R);
    const twoSeries = rows.some((r) => r.before !== undefined && r.before !== null);
    rows.forEach((r, i) => {
      const y0 = T + i * rowH;
      s.append(svg("text", { x: L - 6, y: y0 + 14, "text-anchor": "end" }, r.label.length > 16 ? r.label.slice(0, 15) + "…" : r.label));
      if (twoSeries) {
        s.append(svg("rect", { class: "before", x: L, y: y0 + 3, width: w(r.before), height: 7, rx: 2 }));
        s.append(svg("rect", { class: "after", x: L, y: y0 + 11, width: w(r.after), height: 7, rx: 2 }));
      } else {
        s.append(svg("rect", { class: "after", x: L, y: y0 + 5, width: w(r.after), height: 11, rx: 2 }));
      }
      s.append(svg("text", { x: W - 2, y: y0 + 14, "text-anchor": "end" }, fmtNum(r.after) + (r.n ? " (" + r.n + ")" : "")));
    });
    return chartFigure(title, s, twoSeries ? [["before", "before"], ["after", "after"]] : null);
  }

  // ------------------------------------------------------------------ Analyse
  async function submitAnalysis(ev) {
    ev.preventDefault();
    const file = $("#analyse-file").files[0];
    const errBox = $("#analyse-error");
    errBox.textContent = "";
    if (!file) { errBox.textContent = "Choose a file first."; return; }
    if (file.size > S.uploadLimit) { errBox.textContent = "This file is " + fmtNum(file.size / 1048576, 0) + " MB; the limit is " + fmtNum(S.uploadLimit / 1048576, 0) + " MB."; return; }
    if (!/\.(wav|wave|flac|ogg|oga|mp3)$/i.test(file.name) && !/^audio\//.test(file.type)) { errBox.textContent = "That does not look like an audio file (WAV, FLAC, OGG or MP3)."; return; }
    const fd = new FormData();
    fd.append("file", file, file.name);
    const prog = $("#analyse-progress");
    const state = $("#analyse-state");
    $("#analyse-summary").hidden = true;
    $("#analyse-report-box").hidden = true;
    prog.hidden = false;
    prog.value = 0;
    state.textContent = "Uploading " + file.name + "…";
    try {
      const { id } = await api("POST", "/api/analyses", fd);
      S.analysis = id;
      state.textContent = "Analysing…";
      for (;;) {
        const a = await api("GET", "/api/analyses/" + enc(id));
        prog.value = a.progress || 0;
        if (a.status === "done") { showAnalysis(a); state.textContent = "Done."; break; }
        if (a.status === "error") throw new Error(a.error || "analysis failed");
        await sleep(700);
      }
    } catch (err) {
      if (err.status === 413) {
        const m = /(\d+(?:\.\d+)?)\s*MB/i.exec(err.message);
        if (m) S.uploadLimit = parseFloat(m[1]) * 1024 * 1024;
      }
      state.textContent = "";
      errBox.textContent = err.message;
    } finally {
      prog.hidden = true;
    }
  }

  function showAnalysis(a) {
    const r = a.result || {};
    const facts = [
      ["File", a.name || r.path || ""],
      ["Length", r.duration_s !== undefined ? fmtTime(r.duration_s) + " (" + fmtNum(r.duration_s, 1) + " s)" : "n/a"],
      ["Calm score", r.calm_score !== undefined ? fmtNum(r.calm_score, 0) + " / 100" : "n/a"],
      ["Loudness", fmtNum(r.integrated_lufs ?? (r.loudness && r.loudness.integrated_lufs)) + " LUFS"],
      ["Loudness range", fmtNum(r.loudness_range_lu) + " LU"],
      ["True peak", fmtNum(r.true_peak_dbtp) + " dBTP"],
    ];
    if (r.hum) facts.push(["Hum", r.hum.detected ? fmtNum(r.hum.frequency_hz, 0) + " Hz" : "none"]);
    $("#analyse-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    const events = r.events || [];
    $("#analyse-events").replaceChildren(...(events.length ? events.slice(0, 50).map((e) => el("li", {}, fmtClock(e.start_s) + "–" + fmtClock(e.end_s ?? e.start_s) + " · " + titleCase(e.kind) + (e.level_db !== undefined ? " (" + fmtNum(e.level_db) + " dB)" : ""))) : [el("li", { class: "muted", text: "No jarring events found." })]));
    if (events.length > 50) $("#analyse-events").append(el("li", { class: "muted", text: "…and " + (events.length - 50) + " more (see the report)." }));
    const tags = [...new Set((r.tags || []).map((t) => (typeof t === "string" ? t : t.family || t.label)))];
    $("#analyse-tags").replaceChildren(...(tags.length ? tags.map((t) => el("span", { class: "tag", text: labelOf(t) })) : [el("span", { class: "muted", text: "No trigger sounds recognised." })]));
    $("#soften-state").textContent = "";
    $("#analyse-summary").hidden = false;
    $("#analyse-report").src = "/api/analyses/" + enc(a.id) + "/report";
    $("#report-open").href = "/api/analyses/" + enc(a.id) + "/report";
    $("#analyse-report-box").hidden = false;
  }

  async function soften() {
    const id = S.analysis;
    if (!id) return;
    const st = $("#soften-state");
    const btn = $("#soften-start");
    btn.disabled = true;
    st.textContent = "Softening…";
    try {
      await api("POST", "/api/analyses/" + enc(id) + "/soften");
      for (;;) {
        await sleep(800);
        const a = await api("GET", "/api/analyses/" + enc(id));
        const s = a.softened || {};
        if (s.status === "done") {
          st.replaceChildren(el("a", { href: s.download_url || "/api/analyses/" + enc(id) + "/softened", download: "", class: "button primary", text: "Download the softened file" }));
          break;
        }
        if (s.status === "error") throw new Error(s.error || "softening failed");
      }
    } catch (err) {
      st.textContent = "";
      report(err, "Could not soften");
    } finally { btn.disabled = false; }
  }

  // ------------------------------------------------------------------ Help and settings
  async function refreshHelp() {
    try {
      const c = await api("GET", "/api/crisis?locale=" + enc(S.locale || ""));
      $("#help-crisis-country").textContent = c.country || c.title || c.locale || "";
      fillCrisis(c, "#help-resources", "#help-emergency");
    } catch (err) { report(err, "Could not load the help resources"); }
    await loadWellness();
  }

  async function loadWellness() {
    try {
      const w = await api("GET", "/api/wellness");
      for (const sel of ["#help-wellness", "#fr-wellness"]) $(sel).textContent = w.note || "";
    } catch (err) { report(err); }
  }

  function enterSettings() {
    fillProfileSelects();
    $("#settings-volume").value = String(S.volume);
    $("#settings-volume-out").textContent = Math.round(S.volume * 100) + "%";
  }

  function setVolume(v) {
    S.volume = clamp(v, 0.05, 1);
    store.set("volume", S.volume.toFixed(2));
    if (S.playing && !rampState.get(player())) player().volume = S.volume;
  }

  async function deleteAll() {
    const dlg = $("#confirm-dialog");
    const answer = await new Promise((resolve) => {
      dlg.addEventListener("close", () => resolve(dlg.returnValue), { once: true });
      dlg.returnValue = "cancel";
      dlg.showModal();
    });
    if (answer !== "confirm") return;
    try {
      if (S.stream) await stopPlayback("stopped");
      await api("DELETE", "/api/data", undefined, { headers: { "X-Confirm": "delete" } });
      S.profile = null;
      store.set("profile", null);
      await loadProfiles();
      say("All your data has been deleted.");
    } catch (err) { report(err, "Could not delete the data"); }
  }

  // ------------------------------------------------------------------ first run
  let testCtx = null;
  let sample = null;

  function openFirstRun() {
    loadWellness();
    const ov = $("#first-run");
    showStep(1);
    $("#fr-volume").value = String(S.volume);
    $("#fr-volume-out").textContent = Math.round(S.volume * 100) + "%";
    ov.hidden = false;
    $(".fr-step[data-step='1'] button").focus();
  }

  function showStep(n) {
    for (const s of $$(".fr-step")) s.hidden = s.dataset.step !== String(n);
    const first = $(".fr-step[data-step='" + n + "'] button");
    if (first) first.focus();
  }

  function closeFirstRun() {
    stopSample();
    store.set("firstRunDone", "1");
    $("#first-run").hidden = true;
    $("#play-button").focus();
  }

  function audioCtx() {
    if (!testCtx) testCtx = new (window.AudioContext || window.webkitAudioContext)();
    if (testCtx.state === "suspended") testCtx.resume();
    return testCtx;
  }

  function noiseBuffer(ctx, seconds) {
    const buf = ctx.createBuffer(1, Math.round(ctx.sampleRate * seconds), ctx.sampleRate);
    const d = buf.getChannelData(0);
    // pink-ish noise (Paul Kellet's economy filter): softer than white
    let b0 = 0, b1 = 0, b2 = 0;
    for (let i = 0; i < d.length; i++) {
      const w = Math.random() * 2 - 1;
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      d[i] = (b0 + b1 + b2 + w * 0.1848) * 0.2;
    }
    return buf;
  }

  /** A soft 0.9 s noise burst panned to -1 (left), 0 (both) or 1 (right), with 80/250 ms ramps. */
  function playBurst(pan) {
    const ctx = audioCtx();
    const src = ctx.createBufferSource();
    src.buffer = noiseBuffer(ctx, 1.0);
    const lp = ctx.createBiquadFilter();
    lp.type = "lowpass";
    lp.frequency.value = 2500;
    const g = ctx.createGain();
    const p = ctx.createStereoPanner ? ctx.createStereoPanner() : null;
    const t = ctx.currentTime + 0.02;
    const peak = 0.25 * S.volume;
    g.gain.setValueAtTime(0, t);
    g.gain.linearRampToValueAtTime(peak, t + 0.08);
    g.gain.setValueAtTime(peak, t + 0.65);
    g.gain.linearRampToValueAtTime(0, t + 0.9);
    src.connect(lp).connect(g);
    if (p) { p.pan.value = pan; g.connect(p).connect(ctx.destination); } else g.connect(ctx.destination);
    src.start(t);
    src.stop(t + 0.95);
  }

  function toggleSample() {
    if (sample) { stopSample(); return; }
    const ctx = audioCtx();
    const src = ctx.createBufferSource();
    src.buffer = noiseBuffer(ctx, 4.0);
    src.loop = true;
    const lp = ctx.createBiquadFilter();
    lp.type = "lowpass";
    lp.frequency.value = 1200;
    const g = ctx.createGain();
    g.gain.setValueAtTime(0, ctx.currentTime);
    g.gain.linearRampToValueAtTime(0.35 * S.volume, ctx.currentTime + 1.0);
    src.connect(lp).connect(g).connect(ctx.destination);
    src.start();
    sample = { src, g };
    $("#fr-sample").textContent = "Stop sample";
    $("#fr-sample").setAttribute("aria-pressed", "true");
  }

  function stopSample() {
    if (!sample) return;
    const { src, g } = sample;
    const ctx = audioCtx();
    g.gain.cancelScheduledValues(ctx.currentTime);
    g.gain.setValueAtTime(g.gain.value, ctx.currentTime);
    g.gain.linearRampToValueAtTime(0, ctx.currentTime + 0.6);
    src.stop(ctx.currentTime + 0.65);
    sample = null;
    $("#fr-sample").textContent = "Play sample";
    $("#fr-sample").setAttribute("aria-pressed", "false");
  }

  // ------------------------------------------------------------------ wiring
  function bindStatic() {
    $("#login-form").addEventListener("submit", login);
    $("#logout").addEventListener("click", logout);
    $("#crisis-close").addEventListener("click", () => { $("#crisis-panel").hidden = true; });

    // Listen
    $("#preset-select").addEventListener("change", () => {
      const p = S.presets.find((x) => x.name === $("#preset-select").value);
      $("#preset-description").textContent = p ? p.description + (p.duration_s ? " · " + Math.round(p.duration_s / 60) + " min" : "") : "";
    });
    $("#preset-load").addEventListener("click", async () => {
      if (S.stream) await stopPlayback("stopped");
      await loadPreset($("#preset-select").value);
    });
    $("#personal-make").addEventListener("click", makePersonal);
    $("#play-button").addEventListener("click", onPlayButton);
    $("#stop-button").addEventListener("click", () => stopPlayback("stopped"));
    $("#cb-save").addEventListener("click", () => startStream(true));
    $("#cb-skip").addEventListener("click", () => startStream(false));
    $("#ca-save").addEventListener("click", async () => {
      const st = S.afterFor;
      if (st && st.profile) {
        try { await postCheckin(st.profile, "after", "ca", st.journal_session_id); say("Check-in saved. Rest well."); } catch (err) { report(err, "Could not save the check-in"); }
      }
      $("#checkin-after").hidden = true;
    });
    $("#ca-skip").addEventListener("click", () => { $("#checkin-after").hidden = true; });
    for (const [id, kind] of [["#timer-start", "start"], ["#timer-plus", "plus"], ["#timer-minus", "minus"], ["#timer-cancel", "cancel"]]) $(id).addEventListener("click", () => timerAction(kind));
    $("#add-family").addEventListener("change", fillVariants);
    $("#add-layer").addEventListener("click", addLayer);
    $("#share-make").addEventListener("click", makeShare);
    $("#share-copy").addEventListener("click", copyShare);
    $("#download-start").addEventListener("click", startDownload);
    $("#download-minutes").addEventListener("input", () => {
      const m = parseFloat($("#download-minutes").value) || 0;
      $("#download-format-note").textContent = m > 30 ? "Longer than 30 minutes: an OGG file (smaller)." : "Up to 30 minutes: a FLAC file (lossless).";
    });
    const a = player();
    a.addEventListener("playing", () => { if (S.playing) setIndicator("streaming"); });
    a.addEventListener("waiting", () => { if (S.playing) setIndicator("buffering"); });
    a.addEventListener("timeupdate", () => { $("#position").textContent = fmtTime(S.clockBase + (a.currentTime || 0)); });
    a.addEventListener("ended", () => { if (S.stream && S.playing) pollStream(); });
    a.addEventListener("error", () => { if (S.playing && a.getAttribute("src")) { setIndicator("buffering"); pollStream(); } });
    bindMediaSession();

    // profile selects and creation
    for (const sel of $$(".profile-select")) sel.addEventListener("change", () => setProfile(sel.value));
    $("#discover-new-profile").addEventListener("submit", (ev) => { ev.preventDefault(); createProfile($("#discover-new-name")); });
    $("#settings-new-profile").addEventListener("submit", (ev) => { ev.preventDefault(); createProfile($("#settings-new-name")); });

    // Discover
    $("#clip-next").addEventListener("click", nextClip);
    $("#clip-replay").addEventListener("click", playClip);
    $("#rating-form").addEventListener("submit", submitRating);
    for (const id of ["rate-tingles", "rate-relax"]) $("#" + id).addEventListener("input", () => { $("#" + id + "-out").textContent = $("#" + id).value; });
    $("#avoid-form").addEventListener("submit", saveAvoid);

    // Journal
    $("#checkin-form").addEventListener("submit", submitCheckin);
    $("#sleep-form").addEventListener("submit", submitSleep);
    $("#q-phq9").addEventListener("click", () => openQuestionnaire("phq9"));
    $("#q-gad7").addEventListener("click", () => openQuestionnaire("gad7"));
    $("#q-form").addEventListener("submit", submitQuestionnaire);
    $("#report-link").addEventListener("click", (ev) => { if (!S.profile) ev.preventDefault(); });

    // Analyse
    $("#analyse-form").addEventListener("submit", submitAnalysis);
    $("#soften-start").addEventListener("click", soften);
    $("#report-dim").addEventListener("change", () => $("#analyse-report").classList.toggle("dimmed", $("#report-dim").checked));

    // Settings
    $("#settings-locale").addEventListener("change", () => { S.locale = $("#settings-locale").value; store.set("locale", S.locale); say("Help resources will show " + S.locale + "."); });
    $("#settings-volume").addEventListener("input", () => { setVolume($("#settings-volume").valueAsNumber); $("#settings-volume-out").textContent = Math.round(S.volume * 100) + "%"; });
    $("#rerun-first").addEventListener("click", openFirstRun);
    $("#delete-all").addEventListener("click", deleteAll);

    // First run
    for (const b of $$("#first-run [data-next]")) b.addEventListener("click", () => showStep(b.dataset.next));
    for (const b of $$("#first-run .fr-skip")) b.addEventListener("click", closeFirstRun);
    for (const b of $$("#first-run .hp-test")) b.addEventListener("click", () => playBurst(Number(b.dataset.pan)));
    $("#fr-volume").addEventListener("input", () => {
      setVolume($("#fr-volume").valueAsNumber);
      $("#fr-volume-out").textContent = Math.round(S.volume * 100) + "%";
      if (sample) sample.g.gain.setTargetAtTime(0.35 * S.volume, audioCtx().currentTime, 0.1);
    });
    $("#fr-sample").addEventListener("click", toggleSample);
    $("#fr-done").addEventListener("click", closeFirstRun);
    $("#first-run").addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeFirstRun(); });

    // expose a little state for the end-to-end tests and for debugging in the console
    window.susurrus = { state: S };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
