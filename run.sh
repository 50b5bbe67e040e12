#!/usr/bin/env bash
# Set up everything and run the main job: the web app on http://127.0.0.1:8000 (open the printed link;
# it carries the access token). The journal is an embedded SQLite database in the user data directory.
# Usage: bash run.sh [susurrus arguments...]   e.g. bash run.sh render --preset sleep -o sleep.flac
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- serve
fi
exec .venv/bin/susurrus "$@"
