"""Benchmark: the web app under load — 20 live listeners while other clients write the journal.

Usage::

    .venv/bin/python benchmarks/serve.py [--listeners 20] [--seconds 30] [--writers 4]

Starts ``susurrus serve`` on 127.0.0.1 (a free port, a throwaway data directory) in its
own process, then, from this process, opens ``--listeners`` live streams of the presets
(in turn, one every 0.3 s) and reads them for ``--seconds`` while ``--writers`` clients post check-ins and
read stream states as fast as they get answers. Prints, per listener, the audio received
per wall-clock second (goal ≥ 1.0× real time) and the largest gap between chunks (goal
< 1 s), and the API latency percentiles (goal p95 < 100 ms). The peer in the same run is
an idle-server baseline: the same API calls with no listeners, so the ratio shows what
the live rendering costs the API. Bounded in time; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

TOKEN = "benchmark-token-serve"
STAGGER_S = 0.3
PRESETS = ("relax", "rainy-night", "fireside", "sleep", "focus", "spa", "study-with-me", "bedtime-whispers")


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "SUSURRUS_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "susurrus.cli", "serve", "--port", "0", "--data-dir",
                             str(data_dir)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    t0 = time.monotonic()
    for line in proc.stdout:
        m = re.search(r"listening on (\S+):(\d+)", line)
        if m:
            return proc, f"http://{m.group(1)}:{m.group(2)}"
        if time.monotonic() - t0 > 60:
            break
    proc.kill()
    raise SystemExit("the server did not start")


async def listener(c: httpx.AsyncClient, preset: str, seconds: float, out: list[dict[str, float]],
                   delay: float = 0.0) -> None:
    await asyncio.sleep(delay)
    t_press = time.monotonic()
    r = await c.post("/api/streams", json={"preset": preset})
    r.raise_for_status()
    st = r.json()
    bytes_per_s = 48000 * 2 * 2
    got = 0
    first = last = None
    gap = 0.0
    async with c.stream("GET", st["audio_url"]) as resp:
        async for chunk in resp.aiter_bytes():
            now = time.monotonic()
            if first is None:
                first = now
            else:
                gap = max(gap, now - (last or now))
            last = now
            got += len(chunk)
            if now - first > seconds:
                break
    await c.delete(f"/api/streams/{st['id']}")
    assert first is not None and last is not None
    out.append({"preset_ms": 0.0, "start_s": first - t_press,
                "speed": ((got - 44) / bytes_per_s) / max(1e-9, last - first), "gap_s": gap})


CHANGE_SCENE = {"name": "change", "layers": [{"name": "bed", "trigger": "noise", "variant": "pink",
                                              "spread": "diffuse", "gain_db": -6}],
                "master": {"fade_in_s": 0.0, "momentary_max_lufs": 0.0, "true_peak_dbtp": 0.0}}


async def change_latency(c: httpx.AsyncClient, after_s: float = 4.0) -> float:
    """Seconds from a mix change (−24 dB) to when a listener hears it.

    The listener's playback clock is taken to start at the first byte (the earliest a
    browser can start), so sample ``k`` is heard at ``t_first + k / sr``: a lower bound
    on what a real player adds, and exactly what the server's lead and rendering add.
    """
    r = await c.post("/api/streams", json={"scene": CHANGE_SCENE})
    st = r.json()
    sr, buf = 48000, bytearray()
    t_first = t_put = None
    async with c.stream("GET", st["audio_url"]) as resp:
        async for chunk in resp.aiter_bytes():
            now = time.monotonic()
            t_first = t_first or now
            buf += chunk
            if t_put is None and now - t_first > after_s:
                quiet = {**CHANGE_SCENE, "layers": [{**CHANGE_SCENE["layers"][0], "gain_db": -30}]}
                t_put = time.monotonic()
                await c.put(f"/api/streams/{st['id']}/scene", json={"scene": quiet})
            if t_put is not None and now - t_put > 4.0:
                break
    await c.delete(f"/api/streams/{st['id']}")
    assert t_first is not None and t_put is not None
    pcm = np.frombuffer(bytes(buf[44 : 44 + (len(buf) - 44) // 4 * 4]), dtype="<i2").reshape(-1, 2)
    win = sr // 20
    rms = np.sqrt(np.mean(pcm[: len(pcm) // win * win, 0].astype(float).reshape(-1, win) ** 2, axis=1))
    ref = np.median(rms[: int(2 * sr / win)])
    k = int(np.argmax(rms < ref / 2)) * win  # the first 50 ms window 6 dB down
    return t_first + k / sr - t_put


async def writer(c: httpx.AsyncClient, stop: float, lat: list[float]) -> None:
    i = 0
    while time.monotonic() < stop:
        t0 = time.monotonic()
        if i % 2 == 0:
            r = await c.post("/api/profiles/bench/checkins", json={"stress": i % 11, "calm": 5})
        else:
            r = await c.get("/api/profiles/bench/journal?limit=50")
        r.raise_for_status()
        lat.append(time.monotonic() - t0)
        i += 1
        await asyncio.sleep(0.05)


async def _writers(url: str, writers: int, delay: float, seconds: float) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        me = await c.get(f"/api/me?token={TOKEN}")
        c.headers["X-CSRF-Token"] = me.json()["csrf"]
        await asyncio.sleep(delay)
        lat: list[float] = []
        stop = time.monotonic() + seconds
        await asyncio.gather(*(writer(c, stop, lat) for _ in range(writers)))
        return lat


def writer_process(url: str, writers: int, delay: float, seconds: float, q: Any) -> None:
    """The journal clients, in their own process: their latencies are the server's, not this
    process's event loop busy with twenty audio streams."""
    q.put(asyncio.run(_writers(url, writers, delay, seconds)))


async def run(url: str, listeners: int, writers: int, seconds: float) -> tuple[list[dict[str, float]], list[float]]:
    limits = httpx.Limits(max_connections=listeners + writers + 4)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        me = await c.get(f"/api/me?token={TOKEN}")
        c.headers["X-CSRF-Token"] = me.json()["csrf"]
        if (await c.get("/api/profiles")).json() == []:
            await c.post("/api/profiles", json={"name": "bench"})
        res: list[dict[str, float]] = []
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        # listeners press play one after another (every STAGGER_S), as people do
        tasks = [asyncio.create_task(listener(c, PRESETS[i % len(PRESETS)], seconds, res, i * STAGGER_S))
                 for i in range(listeners)]
        ramp = listeners * STAGGER_S  # the check-ins run while every stream plays
        proc = ctx.Process(target=writer_process, args=(url, writers, ramp, seconds - ramp if listeners else seconds, q))
        proc.start()
        await asyncio.gather(*tasks)
        lat: list[float] = await asyncio.to_thread(q.get, True, 120)
        proc.join(10)
        return res, lat


async def _change(url: str) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        me = await c.get(f"/api/me?token={TOKEN}")
        c.headers["X-CSRF-Token"] = me.json()["csrf"]
        return await change_latency(c)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listeners", type=int, default=20)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="susurrus-serve-bench-") as d:
        proc, url = start_server(Path(d))
        try:
            _, idle = asyncio.run(run(url, 0, args.writers, 5.0))
            changes = [asyncio.run(_change(url)) for _ in range(3)]
            res, lat = asyncio.run(run(url, args.listeners, args.writers, args.seconds))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    speeds = np.array([r["speed"] for r in res])
    gaps = np.array([r["gap_s"] for r in res])
    starts = np.array([r["start_s"] for r in res])
    p = np.percentile(np.array(lat) * 1000, [50, 95, 99])
    p_idle = np.percentile(np.array(idle) * 1000, [50, 95])
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {len(res)} listeners × "
          f"{args.seconds:g} s ({', '.join(PRESETS[: min(len(PRESETS), args.listeners)])})")
    print(f"listeners: speed min {speeds.min():.3f}× median {np.median(speeds):.3f}× real time (goal ≥ 1.0); "
          f"largest gap {gaps.max():.3f} s (goal < 1 s); first audio after press: median {np.median(starts):.2f} s, "
          f"max {starts.max():.2f} s")
    print(f"API ({len(lat)} requests: check-ins and journal reads): p50 {p[0]:.1f} ms  p95 {p[1]:.1f} ms  "
          f"p99 {p[2]:.1f} ms (goal p95 < 100 ms)")
    print(f"peer: the same API calls on the idle server: p50 {p_idle[0]:.1f} ms  p95 {p_idle[1]:.1f} ms; "
          f"ratio under load p95 {p[1] / p_idle[1]:.2f}×")
    print(f"a mix change is heard {np.median(changes):.2f} s after the request (median of 3: "
          f"{', '.join(f'{x:.2f}' for x in changes)}; goal within 2 s)")
    ok = speeds.min() >= 1.0 and gaps.max() < 1.0 and p[1] < 100.0 and max(changes) < 2.0
    print("goals met" if ok else "goals NOT met")


if __name__ == "__main__":
    main()
