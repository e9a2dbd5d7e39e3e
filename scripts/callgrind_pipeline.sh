#!/usr/bin/env bash
# Instructions and heap allocations per call of the in-process pipeline (envelope → policy
# → build → sign → parse → answer, audit log on, AWS in memory), counted by valgrind's
# callgrind: a repeatable figure on a noisy machine. Two runs of A and B calls; the
# difference divided by B - A, so start-up (model loading) cancels out.
#   scripts/callgrind_pipeline.sh            (A=300, B=1300)
#   scripts/callgrind_pipeline.sh server-path   the whole server path instead: the gateway
#       on a TCP listener in front of an in-process upstream, one keep-alive caller (the
#       listener, HTTP, upstream client and task machinery counted too; see ServerPath.swift)
#   TOP=40 scripts/callgrind_pipeline.sh server-path   also the 40 functions costing the most
#       instructions per call (self cost, demangled; INCLUSIVE=1 for inclusive cost)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-pipeline}
A=${A:-300}
B=${B:-1300}
if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null; else echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; fi
fi
bash scripts/setup.sh >/dev/null
swift build -c release --product awsgw-bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind cannot read the Swift debug information of this toolchain: profile a stripped copy.
cp .build/release/awsgw-bench "$work/bench"
strip -g "$work/bench"
for n in "$A" "$B"; do
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$n" "$work/bench" --models "$PWD/models" --only "$MODE" --loops "$n" >"$work/out.$n" 2>"$work/err.$n" \
        || { cat "$work/err.$n" >&2; exit 1; }
    grep -q "calls answered with a result" "$work/out.$n" || { cat "$work/out.$n" "$work/err.$n" >&2; exit 1; }
done
python3 - "$work/cg.$A" "$work/cg.$B" "$A" "$B" "$MODE" <<'PY'
import re, sys

def read(path):
    """Total instructions, and calls made to malloc and its kin, from a callgrind file."""
    names, total, allocations, callee = {}, 0, 0, None
    allocators = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
    for line in open(path, errors="replace"):
        if line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])
        elif line.startswith("cfn="):
            m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
            if m:
                if m.group(2): names[m.group(1)] = m.group(2)
                callee = names.get(m.group(1), "")
            else:
                callee = line[4:].strip()
        elif line.startswith(("fn=", "fl=", "fi=", "fe=", "ob=", "cob=", "cfi=", "cfl=")):
            m = re.match(r"fn=\((\d+)\) (.*)", line.strip())
            if m: names[m.group(1)] = m.group(2)
        elif line.startswith("calls=") and callee is not None:
            name = callee.split(":")[-1].split("'")[0]
            if name in allocators:
                allocations += int(line.split("=")[1].split()[0])
            callee = None
    return total, allocations

(ia, ma), (ib, mb) = read(sys.argv[1]), read(sys.argv[2])
calls = int(sys.argv[4]) - int(sys.argv[3])
print(f"{'in-process pipeline' if sys.argv[5] == 'pipeline' else 'server path (TCP, HTTP, upstream client)'} (callgrind, ({sys.argv[4]} calls) - ({sys.argv[3]} calls)):")
print(f"  instructions per call: {(ib - ia) / calls:,.0f}")
print(f"  heap allocations per call: {(mb - ma) / calls:,.1f}")
PY
if [ -n "${TOP:-}" ]; then
    for n in "$A" "$B"; do
        callgrind_annotate --inclusive="$([ -n "${INCLUSIVE:-}" ] && echo yes || echo no)" --threshold=100 "$work/cg.$n" \
            | swift demangle --simplified >"$work/annotate.$n"
    done
    python3 - "$work/annotate.$A" "$work/annotate.$B" "$A" "$B" "$TOP" <<'PY'
import re, sys
def read(path):
    costs = {}
    for line in open(path, errors="replace"):
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if m and ":" in m.group(2):
            name = m.group(2).split(":", 1)[1].split(" [")[0]
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs
a, b = read(sys.argv[1]), read(sys.argv[2])
calls = int(sys.argv[4]) - int(sys.argv[3])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / calls, k) for k in set(a) | set(b))
print(f"  top functions, instructions per call:")
for cost, name in reversed(rows[-int(sys.argv[5]):]):
    print(f"  {cost:10,.0f}  {name[:160]}")
PY
fi
