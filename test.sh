#!/usr/bin/env bash
# Set up everything and run every check: ruff, mypy and the whole test suite (slow tests included).
set -euo pipefail
cd "$(dirname "$0")"
SUSURRUS_BROWSER_TESTS=1 bash scripts/setup.sh
echo "== ruff";  .venv/bin/ruff check src tests scripts benchmarks
echo "== mypy";  .venv/bin/mypy src/susurrus
echo "== pytest"
mkdir -p test-output
.venv/bin/python -m pytest -n 2 --dist loadgroup -q -p no:cacheprovider "$@"
