#!/usr/bin/env python3
"""awsgw against aws-sigv4-proxy, side by side in one run (issue 14's table).

nginx (Debian's) stands in for AWS and answers every request at once. Each target is
driven with the same request at concurrency 1 and 64:
  - nginx directly (the floor),
  - awsgw as users run it: one team admitted by a bearer token, allow ["*:*"], a rate
    limit (far above the load: counted, never refusing), audit log on, idle polling at its
    default, calling networkmanager.AssociateConnectPeer, on each of its listeners: tcp: and
    tls: driven by wrk, unix: by scripts/loadgen.c (wrk cannot reach a Unix socket; the
    same closed loop, built here with the C compiler), and once more on TCP with
    `idle_poll: off`, to show what polling buys a lone caller,
  - aws-sigv4-proxy (awslabs, Go) signing the same REST request, when it can be built
    from a snapshot of its repository (AWS_SIGV4_PROXY_SRC: a git directory or a source
    folder; Debian's golang-go builds it from its vendored modules).
For each: calls/s, p50 and p99, and CPU per call (the process's utime + stime over the
calls answered); at c=64 also the load generator's and nginx's CPU per call, since all
share the two cores. c=64 and c=1 are each the median of alternated runs, each round
starting one target further on. Answers are counted (a wrk script; loadgen counts them itself): a run in
which any answer was not a result (a JSON-RPC error, a non-200) is refused, not reported.

    make bench-peer          (or: python3 scripts/bench_peer.py --awsgw .build/release/awsgw --models models)
"""
import argparse
import hashlib
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOKEN = "bench-peer-token"
RPC_BODY = ('{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":'
            '{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123"}}')
REST_PATH = "/global-networks/global-network-0123/connect-peer-associations"
REST_BODY = '{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123"}'
ANSWER = '{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123","GlobalNetworkId":"global-network-0123","State":"PENDING"}}'
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

WRK_SCRIPT = r"""
local mode = "rest"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  mode = args[1] or "rest"
  results = 0
  failures = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if mode == "jsonrpc" then
    wrk.path = "/"
    wrk.body = os.getenv("BENCH_RPC_BODY")
    wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  else
    wrk.path = os.getenv("BENCH_REST_PATH")
    wrk.body = os.getenv("BENCH_REST_BODY")
  end
end
function response(status, headers, body)
  if status == 200 and (mode ~= "jsonrpc" or (string.find(body, '"result":', 1, true) and not string.find(body, '"error":', 1, true))) then
    results = results + 1
  else
    failures = failures + 1
  end
end
function done(summary, latency, requests)
  local r, f = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("results"); f = f + t:get("failures") end
  io.write(string.format("ANSWERS results=%d failures=%d\n", r, f))
  io.write(string.format("LATENCY p50=%d p99=%d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench-peer: {process.args[0]} exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench-peer: nothing listens on {port}")


def cpu_seconds(pid):
    """utime + stime of a process and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Target:
    """Something to drive: a TCP or TLS port (wrk) or a Unix socket (loadgen)."""

    def __init__(self, name, mode, pid=None, port=None, tls=False, unix=None):
        self.name, self.mode, self.pid, self.port, self.tls, self.unix = name, mode, pid, port, tls, unix


def children_cpu_seconds():
    """utime + stime of this script's finished children (the load generators), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def nginx_worker(master_pid):
    """The one worker of nginx (`worker_processes 1`), whose CPU a run also counts."""
    try:
        with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
            children = [int(pid) for pid in f.read().split()]
    except OSError:  # a kernel without /proc/PID/task/TID/children: nginx's share is not shown
        return None
    return children[0] if children else None


def drive(target, connections, seconds, script, loadgen, upstream_pid=None):
    env = dict(os.environ, BENCH_RPC_BODY=RPC_BODY, BENCH_TOKEN=TOKEN, BENCH_REST_PATH=REST_PATH, BENCH_REST_BODY=REST_BODY)
    if target.unix:
        command = [loadgen, "--unix", target.unix, "-c", str(connections), "-d", str(seconds)]
        if target.mode == "jsonrpc":
            command += ["--path", "/", "--body", RPC_BODY, "--header", f"Authorization: Bearer {TOKEN}", "--jsonrpc"]
        else:
            command += ["--path", REST_PATH, "--body", REST_BODY]
    else:
        url = f"{'https' if target.tls else 'http'}://127.0.0.1:{target.port}"
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url, "--", target.mode]
    before = cpu_seconds(target.pid) if target.pid else None
    load_before, upstream_before = children_cpu_seconds(), cpu_seconds(upstream_pid) if upstream_pid else 0
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    cpu = cpu_seconds(target.pid) - before if target.pid else None
    load_cpu, upstream_cpu = children_cpu_seconds() - load_before, cpu_seconds(upstream_pid) - upstream_before if upstream_pid else None
    rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec:")))
    answers = next(line for line in out.splitlines() if line.startswith("ANSWERS"))
    results = int(answers.split("results=")[1].split()[0])
    failures = int(answers.split("failures=")[1].split()[0])
    latency = next(line for line in out.splitlines() if line.startswith("LATENCY"))
    p50 = int(latency.split("p50=")[1].split()[0])
    p99 = int(latency.split("p99=")[1].split()[0])
    if failures or results == 0:
        raise SystemExit(f"bench-peer: refused: {failures} of {results + failures} answers from {target.name} were not results "
                         "(the run measured refusals, not calls)")
    return {"rate": rate, "p50": p50, "p99": p99, "calls": results, "cpu_us": cpu / results * 1e6 if cpu is not None else None,
            # What the others on the same cores spent per call: the load generator, nginx.
            "load_us": load_cpu / results * 1e6, "upstream_us": upstream_cpu / results * 1e6 if upstream_cpu is not None else None}


def rotated(items, by):
    by %= len(items)
    return items[by:] + items[:by]


def median_run(runs):
    """One run's figures, each the median of `runs`' (p50, p99, calls/s, CPU per call)."""
    return {key: statistics.median(r[key] for r in runs) if runs[0][key] is not None else None
            for key in ("p50", "p99", "rate", "cpu_us")}


def gateway_environment(work):
    """What awsgw and the peer run with: example keys, nothing else of this machine's."""
    return {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "HOME": work,
            "PATH": "/usr/bin:/bin"}


def start_gateway(awsgw, work, name, models, upstream_port, listen, extra=""):
    """awsgw as users run it (one team admitted by TOKEN, allow everything, a rate limit far
    above any load, audit log on) on `listen`, in front of 127.0.0.1:upstream_port; `extra`
    is more of its config file."""
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    config = os.path.join(work, name + ".yaml")
    listeners = ", ".join(f'"{address}"' for address in listen)
    open(config, "w").write(f"""
listen: [{listeners}]
models: {os.path.abspath(models)}
region: us-west-2
credentials: {{ default: {{ source: env }} }}
logs: {{ dir: {work}/logs-{name} }}
limits: {{ max_connections: 4096 }}
teams:
  apps: {{ members: ["token-sha256:{digest}"], allow: ["*:*"], rate: {{ "*": "1000000/s burst 1000000" }} }}
{extra}
""")
    return subprocess.Popen([awsgw, "serve", "--config", config, "--log-level", "error"], stdout=subprocess.DEVNULL,
                            env=dict(gateway_environment(work), AWS_ENDPOINT_URL=f"http://127.0.0.1:{upstream_port}"))


def build_loadgen(work):
    """scripts/loadgen.c compiled into the work folder."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        raise SystemExit("bench-peer: needs a C compiler for scripts/loadgen.c (apt-get install gcc)")
    binary = os.path.join(work, "loadgen")
    subprocess.run([compiler, "-O2", "-o", binary, os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadgen.c")], check=True)
    return binary


def build_peer(source, work):
    """aws-sigv4-proxy built from a snapshot, or None with the reason printed."""
    if not source or not os.path.exists(source):
        print(f"aws-sigv4-proxy: skipped (no snapshot at {source or '(unset)'}; set AWS_SIGV4_PROXY_SRC)")
        return None
    if not shutil.which("go"):
        print("aws-sigv4-proxy: skipped (no Go toolchain; apt-get install golang-go)")
        return None
    tree = os.path.join(work, "aws-sigv4-proxy")
    os.makedirs(tree)
    if os.path.isdir(os.path.join(source, "objects")):  # a bare git directory: its newest commit
        archive = subprocess.run(["git", f"--git-dir={source}", "archive", "HEAD"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "x", "-C", tree], input=archive, check=True)
        commit = subprocess.run(["git", f"--git-dir={source}", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    else:
        shutil.copytree(source, tree, dirs_exist_ok=True)
        commit = "(source folder)"
    # Debian's Go is older than the `go` line of its go.mod; the vendored code builds with it.
    gomod = os.path.join(tree, "go.mod")
    text = open(gomod).read().splitlines()
    open(gomod, "w").write("\n".join("go 1.19" if line.startswith("go ") else line for line in text) + "\n")
    built = subprocess.run(["go", "build", "-mod=vendor", "-o", "aws-sigv4-proxy", "./cmd/aws-sigv4-proxy"], cwd=tree,
                           capture_output=True, text=True, env=dict(os.environ, GOFLAGS="-mod=vendor", GOCACHE=os.path.join(work, "gocache")))
    if built.returncode != 0:
        print("aws-sigv4-proxy: skipped (go build failed: " + built.stderr.strip().splitlines()[-1] + ")")
        return None
    return os.path.join(tree, "aws-sigv4-proxy"), commit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--awsgw", default=".build/release/awsgw")
    parser.add_argument("--models", default="models")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="alternated runs at concurrency 64 (medians reported)")
    parser.add_argument("--peer-source", default=os.environ.get("AWS_SIGV4_PROXY_SRC", "/work/.mirror/awslabs+aws-sigv4-proxy/repo"))
    parser.add_argument("--perf", metavar="FILE", help="also record the gateway with `perf record --call-graph dwarf` (full Swift call graphs) during one extra c=64 run into FILE")
    parser.add_argument("--poll-levels", default="", metavar="N,N,...",
                        help="also drive awsgw tcp with and without idle polling at these concurrencies, alternated --runs times "
                             "(e.g. 1,2,4,16: what idle_poll costs or saves at each)")
    args = parser.parse_args()
    for tool in ["nginx", "wrk"]:
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise SystemExit(f"bench-peer: needs {tool} (scripts/install-bench-tools.sh)")

    work = tempfile.mkdtemp(prefix="awsgw-bench-peer-")
    processes = []
    try:
        script = os.path.join(work, "count.lua")
        open(script, "w").write(WRK_SCRIPT)

        upstream_port = free_port()
        os.makedirs(os.path.join(work, "nginx", "logs"))
        open(os.path.join(work, "nginx", "nginx.conf"), "w").write(f"""
worker_processes 1;
daemon off;
pid {work}/nginx/nginx.pid;
error_log {work}/nginx/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx/body;
  server {{
    listen 127.0.0.1:{upstream_port};
    keepalive_requests 100000000;
    location / {{
      default_type application/json;
      add_header x-amzn-RequestId bench-peer;
      return 200 '{ANSWER}';
    }}
  }}
}}
""")
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-p", os.path.join(work, "nginx"), "-c", os.path.join(work, "nginx", "nginx.conf")],
                                 stderr=subprocess.DEVNULL)
        processes.append(nginx)
        wait_for_port(upstream_port, nginx)

        gateway_port, tls_port, gateway_socket = free_port(), free_port(), os.path.join(work, "awsgw.sock")
        subprocess.run([args.awsgw, "certs", "generate", "--dir", os.path.join(work, "certs")], check=True, stdout=subprocess.DEVNULL)
        gateway = start_gateway(args.awsgw, work, "awsgw", args.models, upstream_port,
                                [f"tcp:127.0.0.1:{gateway_port}", f"tls:127.0.0.1:{tls_port}", f"unix:{gateway_socket}"],
                                f"tls: {{ cert: {work}/certs/server.pem, key: {work}/certs/server.key }}")
        processes.append(gateway)
        wait_for_port(gateway_port, gateway)
        # The same gateway with idle polling off (a TCP listener only): what polling buys a
        # lone caller, and that it costs nothing at c=64.
        no_poll_port = free_port()
        no_poll = start_gateway(args.awsgw, work, "awsgw-no-poll", args.models, upstream_port, [f"tcp:127.0.0.1:{no_poll_port}"], "idle_poll: off")
        processes.append(no_poll)
        wait_for_port(no_poll_port, no_poll)
        loadgen = build_loadgen(work)

        peer = build_peer(args.peer_source, work)
        targets = [Target("awsgw tcp", "jsonrpc", gateway.pid, port=gateway_port),
                   Target("awsgw tls", "jsonrpc", gateway.pid, port=tls_port, tls=True),
                   Target("awsgw unix", "jsonrpc", gateway.pid, unix=gateway_socket),
                   Target("awsgw tcp no poll", "jsonrpc", no_poll.pid, port=no_poll_port)]
        if peer:
            peer_port = free_port()
            proxy = subprocess.Popen([peer[0], "--port", f"127.0.0.1:{peer_port}", "--name", "networkmanager", "--region", "us-west-2",
                                      "--host", f"127.0.0.1:{upstream_port}", "--sign-host", "networkmanager.us-west-2.amazonaws.com",
                                      "--upstream-url-scheme", "http"], env=gateway_environment(work), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(proxy)
            wait_for_port(peer_port, proxy)
            targets.append(Target("aws-sigv4-proxy", "rest", proxy.pid, port=peer_port))
        nginx_target = Target("nginx", "rest", port=upstream_port)
        # Warm up every target (connections, models, pools).
        for target in targets + [nginx_target]:
            drive(target, 64, 1, script, loadgen)

        results = {target.name: {"c64": [], "c1": None} for target in targets}
        worker = nginx_worker(nginx.pid)
        short = args.seconds // 2 or 1
        direct = {"c64": drive(nginx_target, 64, args.seconds, script, loadgen)}
        # Each round starts one target further on, so that none always runs after the same
        # one: a run can leave work behind for the next (connections closing, a collector).
        for round in range(args.runs):
            for target in rotated(targets, round):
                results[target.name]["c64"].append(drive(target, 64, args.seconds, script, loadgen, upstream_pid=worker))
        # c=1 alternated with nginx alone too, so that "added over nginx" compares alike
        # moments of a shared host (from single runs minutes apart it spread 35-132 µs).
        lone = {target.name: [] for target in targets + [nginx_target]}
        for round in range(args.runs):
            for target in rotated([nginx_target] + targets, round):
                lone[target.name].append(drive(target, 1, short, script, loadgen))
        for target in targets:
            results[target.name]["c1"] = median_run(lone[target.name])
        direct["c1"] = median_run(lone[nginx_target.name])
        levels = [int(n) for n in args.poll_levels.split(",") if n.strip()]
        by_level = {(name, n): [] for name in ("awsgw tcp", "awsgw tcp no poll") for n in levels}
        for _ in range(args.runs):
            for n in levels:
                for target in targets:
                    if (target.name, n) in by_level:
                        by_level[(target.name, n)].append(drive(target, n, short, script, loadgen))
        if args.perf:
            recorder = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "499", "-o", args.perf, "-p", str(gateway.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            drive(targets[0], 64, args.seconds, script, loadgen)
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)

        print(f"\nside by side (nginx upstream answering at once; wrk -t1 (loadgen for unix), {args.seconds} s per run; "
              f"c=64: median of {args.runs} alternated runs, c=1: of {args.runs} alternated runs of {short} s; 2 cores shared by all)")
        if peer:
            print(f"aws-sigv4-proxy: awslabs commit {peer[1]}, built with {subprocess.run(['go', 'version'], capture_output=True, text=True).stdout.strip()}")
        print(f"{'':18} {'calls/s c=64':>13} {'p50 c=64':>10} {'p99 c=64':>10} {'CPU/call':>10} {'p50 c=1':>9} {'p99 c=1':>9} {'CPU/call c=1':>13}")
        summary = {}
        for target in targets:
            name = target.name
            runs = results[name]["c64"]
            rate = statistics.median(r["rate"] for r in runs)
            cpu = statistics.median(r["cpu_us"] for r in runs)
            one = results[name]["c1"]
            summary[name] = (rate, cpu, one["p50"])
            print(f"{name:18} {rate:13,.0f} {statistics.median(r['p50'] for r in runs):8,.0f}µs {statistics.median(r['p99'] for r in runs):8,.0f}µs "
                  f"{cpu:8,.0f}µs {one['p50']:7,.0f}µs {one['p99']:7,.0f}µs {one['cpu_us']:11,.0f}µs   (c=64 runs: "
                  + ", ".join(f"{r['rate']:,.0f}" for r in runs) + ")")
        print(f"{'nginx directly':18} {direct['c64']['rate']:13,.0f} {direct['c64']['p50']:8,.0f}µs {direct['c64']['p99']:8,.0f}µs "
              f"{'—':>10} {direct['c1']['p50']:7,.0f}µs {direct['c1']['p99']:7,.0f}µs")
        print(f"awsgw peak RSS (VmHWM): {peak_rss_mb(gateway.pid):.1f} MB (all three listeners, one process)")
        # calls/s at c=64 is the two cores divided by what every program spends per call.
        others = []
        for target in targets:
            runs = results[target.name]["c64"]
            upstream = (f", nginx {statistics.median(r['upstream_us'] for r in runs):,.1f}"
                        if all(r["upstream_us"] is not None for r in runs) else "")
            others.append(f"{target.name}: {'loadgen' if target.unix else 'wrk'} {statistics.median(r['load_us'] for r in runs):,.1f}{upstream}")
        print("CPU per call at c=64 of the others on the same cores (µs): " + "; ".join(others))
        for target in targets[:3]:
            ga, gc, gp = summary[target.name]
            line = f"{target.name}: added p50 at c=1 over nginx {gp - direct['c1']['p50']:,.0f} µs"
            if "aws-sigv4-proxy" in summary:
                pa, pc, pp = summary["aws-sigv4-proxy"]
                line += (f"; ratios to aws-sigv4-proxy: calls/s {ga / pa:.2f}× (goal ≥ 2), CPU per call {gc / pc:.2f}× (goal ≤ 0.5), "
                         f"p50 at c=1 {gp / pp:.2f}×")
            print(line)
        polled, unpolled = summary["awsgw tcp"], summary["awsgw tcp no poll"]
        print(f"idle_poll (awsgw tcp against the same with idle_poll: off): p50 at c=1 {polled[2]:,.0f} against {unpolled[2]:,.0f} µs; "
              f"at c=64 calls/s {polled[0] / unpolled[0]:.2f}×, CPU per call {polled[1] / unpolled[1]:.2f}×")
        def med(rows, key):
            return statistics.median(r[key] for r in rows)
        for n in levels:
            polled, unpolled = by_level[("awsgw tcp", n)], by_level[("awsgw tcp no poll", n)]
            print(f"idle_poll at c={n} (median of {len(polled)}): p50 {med(polled, 'p50'):,.0f} against {med(unpolled, 'p50'):,.0f} µs, "
                  f"calls/s {med(polled, 'rate'):,.0f} against {med(unpolled, 'rate'):,.0f}, "
                  f"CPU per call {med(polled, 'cpu_us'):,.1f} against {med(unpolled, 'cpu_us'):,.1f} µs")
        if "aws-sigv4-proxy" in summary:
            print(f"aws-sigv4-proxy adds {summary['aws-sigv4-proxy'][2] - direct['c1']['p50']:,.0f} µs at c=1 over nginx")
        print("goals (issue 14): awsgw CPU per call ≤ 90 µs, p50 at c=1 ≤ 200 µs, peak RSS ≤ 60 MB, on every listener")
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
