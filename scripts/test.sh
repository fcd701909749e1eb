#!/usr/bin/env bash
# The whole test suite: set up (first time only), then unit tests and strict nbval over
# every notebook in one pytest run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # notebook kernels must use the inline backend their outputs were made with
.venv/bin/python -m nst_helpers prefetch >/dev/null
exec .venv/bin/python -m pytest tests notebooks --nbval --sanitize-with notebooks/sanitize.cfg \
  --durations=15 "$@"
