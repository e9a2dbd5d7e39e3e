#!/usr/bin/env python3
"""What idle polling costs a lone caller in front of a slow upstream.

A stand-in for AWS that answers each request after DELAY ms (Python, threaded), and the
gateway of `make bench-peer` twice, with `idle_poll: 100us` and with `idle_poll: off`, each
driven at concurrency 1 over its Unix socket by scripts/loadgen.c, alternated ROUNDS times
for SECONDS each; prints the medians of CPU per call and latency of both. With an upstream that takes milliseconds the window for AWS's
answer should close, so polling may only cost what the caller's side saves.

    python3 scripts/idle_poll_cost.py --awsgw .build/release/awsgw --models models --delay-ms 2
"""
import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peer as bp  # noqa: E402


def slow_upstream(delay):
    """A keep-alive HTTP/1.1 server answering every request after `delay` seconds; its port."""
    answer = bp.ANSWER.encode()

    def handle(conn):
        buffer = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                if len(rest) < length:
                    break
                buffer = rest[length:]
                time.sleep(delay)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: slow\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))

    def serve(listener):
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    return listener.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--awsgw", default=".build/release/awsgw")
    parser.add_argument("--models", default="models")
    parser.add_argument("--delay-ms", type=float, default=2.0)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="alternated runs of each (medians reported)")
    args = parser.parse_args()
    upstream = slow_upstream(args.delay_ms / 1000)
    work = tempfile.mkdtemp(prefix="awsgw-idle-poll-")
    loadgen = bp.build_loadgen(work)
    gateways, targets = [], []
    try:
        for mode in ["100us", "off"]:
            path = os.path.join(work, f"awsgw-{mode}.sock")
            gateway = bp.start_gateway(args.awsgw, work, f"awsgw-{mode}", args.models, upstream, [f"unix:{path}"], f"idle_poll: {mode}")
            gateways.append(gateway)
            deadline = time.time() + 20
            while not os.path.exists(path):
                if gateway.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"idle_poll_cost: the gateway (idle_poll {mode}) did not start")
                time.sleep(0.05)
            targets.append(bp.Target(f"idle_poll {mode}", "jsonrpc", gateway.pid, unix=path))
            bp.drive(targets[-1], 1, 1, None, loadgen)  # warm up
        runs = {target.name: [] for target in targets}
        for _ in range(args.rounds):
            for target in targets:
                runs[target.name].append(bp.drive(target, 1, args.seconds, None, loadgen))
        for name, rows in runs.items():
            def median(key):
                return statistics.median(row[key] for row in rows)
            print(f"{name:16} upstream {args.delay_ms:g} ms, medians of {len(rows)}: CPU per call {median('cpu_us'):,.0f} µs, "
                  f"p50 {median('p50'):,.0f} µs, p99 {median('p99'):,.0f} µs")
    finally:
        for gateway in gateways:
            gateway.terminate()
            gateway.wait(timeout=10)


if __name__ == "__main__":
    main()
