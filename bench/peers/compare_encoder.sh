#!/bin/sh
# BERT encoder inference, batch 1 and 8 x 128 tokens: opsbench (libtorch, bench_encoder) against
# PyTorch 1.13 eager (torch_bert_forward.py), run here in one invocation under identical thread and
# BLAS settings, on the same weights: all-MiniLM-L6-v2 and a random BERT-base-sized model (written
# once to $OPSBENCH_BERT_BASE_DIR, default /tmp/opsbench-bert-base-random, ~440 MB).
#   bench/peers/compare_encoder.sh [BUILD_DIR]      (default build/release)
# Environment: THREADS (default "1 2"), REPS_MINILM (7), REPS_BASE (3), SKIP_BASE=1 to leave the
# BERT-base model out. For each thread count t both sides run with OMP_NUM_THREADS=t and
# OPENBLAS_NUM_THREADS=t (torch.set_num_threads / at::set_num_threads t as well), C++ and Python
# one after the other per model. Each sample is the mean of 3 forward passes; printed: the median
# over the samples per side and the ratio torch / opsbench (> 1: opsbench is faster).
# OMP_WAIT_POLICY=passive keeps torch's and OpenBLAS' threads from spinning against each other on
# small machines (PyTorch's best setting here); opsbench's inference path runs each forward in one
# OpenMP region with its own spinning barriers, so the policy barely moves it (docs/encoders.md;
# OMP_WAIT_POLICY=active or unset favour opsbench far more). OPENBLAS_CORETYPE is
# inherited as set (record it with the results). On a machine shared with other jobs only ratios
# from one run mean anything.
set -eu
build=${1:-build/release}
here=$(dirname "$0")
threads=${THREADS:-"1 2"}
reps_minilm=${REPS_MINILM:-7}
reps_base=${REPS_BASE:-3}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
minilm=${OPSBENCH_MODEL_DIR:-$HOME/.cache/opsbench/models}/all-MiniLM-L6-v2
base=${OPSBENCH_BERT_BASE_DIR:-/tmp/opsbench-bert-base-random}
export OPSBENCH_BERT_BASE_DIR=$base
[ -f "$minilm/model.safetensors" ] || { echo "missing $minilm: run ci/fetch-models.sh" >&2; exit 2; }
if [ "${SKIP_BASE:-0}" != 1 ] && [ ! -f "$base/model.safetensors" ]; then
  /usr/bin/python3 "$here/torch_bert_forward.py" --make-random-base "$base"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OMP_WAIT_POLICY=$OMP_WAIT_POLICY threads=$threads nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
models="MiniLM"
[ "${SKIP_BASE:-0}" = 1 ] || models="MiniLM BertBase"
for t in $threads; do
  for m in $models; do
    if [ "$m" = MiniLM ]; then dir=$minilm; reps=$reps_minilm; else dir=$base; reps=$reps_base; fi
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$build/bench/bench_encoder" \
      --benchmark_filter="BM_${m}(Forward|Pooled)/batch:[0-9]+/threads:$t/" \
      --benchmark_repetitions="$reps" --benchmark_format=json >"$out/cpp_${m}_$t.json" 2>"$out/cpp_${m}_$t.err" ||
      { cat "$out/cpp_${m}_$t.err" >&2; exit 1; }
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t /usr/bin/python3 "$here/torch_bert_forward.py" --model "$dir" \
      --threads "$t" --batch 1 8 --inner 3 --repeats "$reps" >"$out/py_${m}_$t.txt"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
cpp = {}  # (model, what, batch, threads) -> [(wall, cpu) seconds per forward]
for path in glob.glob(os.path.join(out, "cpp_*.json")):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        m = re.match(r"BM_(\w+?)(Forward|Pooled)/batch:(\d+)/threads:(\d+)", b["run_name"])
        key = (m[1], m[2].lower(), int(m[3]), int(m[4]))
        cpp.setdefault(key, []).append((b["real_time"] / 1e3, b["cpu_time"] / 1e3))  # ms -> s
py = {}
for path in glob.glob(os.path.join(out, "py_*.txt")):
    model = "MiniLM" if "MiniLM" in path else "BertBase"
    for line in open(path):
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if "median_s" in f:
            py[(model, int(f["batch"]), int(f["threads"]))] = (float(f["median_s"]), float(f["cpu_median_s"]))
nan = float("nan")
def med(samples, i):
    return statistics.median(s[i] for s in samples) if samples else nan
print(f"{'':22} {'wall seconds':^40} | {'process CPU seconds':^40}")
head = f"{'torch':>8} {'fwd':>8} {'ratio':>5} {'pooled':>8} {'ratio':>5}"
print(f"{'model':8} {'batch':>5} {'thr':>3}    {head} | {head}")
for (model, batch, threads), t in sorted(py.items()):
    fwd = cpp.get((model, "forward", batch, threads))
    pooled = cpp.get((model, "pooled", batch, threads))
    cols = []
    for i in (0, 1):
        f, p = med(fwd, i), med(pooled, i)
        cols.append(f"{t[i]:8.4f} {f:8.4f} {t[i] / f:5.2f} {p:8.4f} {t[i] / p:5.2f}")
    print(f"{model:8} {batch:5d} {threads:3d}    {cols[0]} | {cols[1]}")
print("torch: torch_bert_forward.py (full forward; eager PyTorch has no cheaper path for the pooled output);")
print("fwd / pooled: bench_encoder BM_*Forward / BM_*Pooled; ratio = torch / opsbench (> 1: opsbench faster);")
print("medians over samples of 3 passes. CPU time counts every thread of the process: on a loaded")
print("machine it shows the work done, the wall time also the waiting.")
PY
