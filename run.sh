#!/usr/bin/env bash
# Set up everything and run the main job: render the `relax` preset (5 minutes) to relax.flac.
# Usage: bash run.sh [susurrus arguments...]   e.g. bash run.sh render --preset sleep -o sleep.flac
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- render --preset relax --duration 5m -o relax.flac
fi
exec .venv/bin/susurrus "$@"
