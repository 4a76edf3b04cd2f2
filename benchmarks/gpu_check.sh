#!/usr/bin/env bash
# Issue #9 on a CUDA GPU, in one go (about 3-5 minutes on an H100): equality of the Triton smoothDTW kernels with
# the CPU kernel (benchmarks/gpu_check.py, N, M up to 4096, B 64) and the speed table against the torch
# anti-diagonal fallback and pysdtw (benchmarks/dtw_speed_gpu.py, B 16/64, N=M 64..2048, plus launch tuning).
# Results (markdown + JSON + logs) go to $OUT (default ./gpu_out); each part is cut off by `timeout` so a slow
# part cannot eat the other's time, and both write their results after every case.
#
# pysdtw is not on the GPU image and that machine has no network: carry its wheel in .whl/, made here with
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl pysdtw==0.0.5
# Without it the pysdtw column reads "not installed" (absent).
#
#   bash benchmarks/gpu_check.sh            # run from the repository root
set -uo pipefail
OUT=${OUT:-gpu_out}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gtalign_site .whl/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/gtalign_site"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1
$PY -c "import torch, triton, numba; print('torch', torch.__version__, 'triton', triton.__version__, 'numba', numba.__version__)" \
  >> "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
status=0
timeout 170 $PY benchmarks/gpu_check.py --out "$OUT" > "$OUT/gpu_check.log" 2>&1 || status=$?
tail -n 30 "$OUT/gpu_check.log"
timeout 170 $PY benchmarks/dtw_speed_gpu.py --tune --out "$OUT" > "$OUT/dtw_speed_gpu.log" 2>&1 || status=$((status ? status : $?))
tail -n 40 "$OUT/dtw_speed_gpu.log"
exit $status
