#!/usr/bin/env bash
# The main job: set up (first time only), then paint the bundled cat photo in the bundled
# swirl style at 384 px. Extra arguments go to `python -m nst_helpers stylize`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m nst_helpers stylize "$@"
