#!/usr/bin/env python3
"""What idle polling costs a lone caller in front of a slow upstream.

A stand-in for AWS that answers each request after DELAY ms (Python, threaded), one awsgw
with `idle_poll: 100us` and one with `idle_poll: off`, each driven at concurrency 1 by
scripts/loadgen.c for SECONDS; prints CPU per call and latency of both. With an upstream
that takes milliseconds the window for AWS's answer should close, so polling may only
cost what the caller's side saves.

    python3 scripts/idle_poll_cost.py --awsgw .build/release/awsgw --models models --delay-ms 2
"""
import argparse
import hashlib
import os
import socket
import subprocess
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
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    upstream = slow_upstream(args.delay_ms / 1000)
    work = tempfile.mkdtemp(prefix="awsgw-idle-poll-")
    loadgen = bp.build_loadgen(work)
    digest = hashlib.sha256(bp.TOKEN.encode()).hexdigest()
    for mode in ["100us", "off"]:
        port = bp.free_port()
        config = os.path.join(work, f"awsgw-{mode}.yaml")
        open(config, "w").write(f"""
listen: ["tcp:127.0.0.1:{port}"]
models: {os.path.abspath(args.models)}
region: us-west-2
credentials: {{ default: {{ source: env }} }}
logs: {{ dir: {work}/logs-{mode} }}
idle_poll: {mode}
teams:
  apps: {{ members: ["token-sha256:{digest}"], allow: ["*:*"] }}
""")
        gateway = subprocess.Popen([args.awsgw, "serve", "--config", config, "--log-level", "error"], stdout=subprocess.DEVNULL,
                                   env={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                        "HOME": work, "PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{upstream}"})
        try:
            bp.wait_for_port(port, gateway)
            target = bp.Target(f"idle_poll {mode}", "jsonrpc", gateway.pid, unix=None, port=port)
            command = [loadgen, "--tcp", f"127.0.0.1:{port}", "-c", "1", "-d", "1", "--path", "/", "--body", bp.RPC_BODY,
                       "--header", f"Authorization: Bearer {bp.TOKEN}", "--jsonrpc"]
            subprocess.run(command, capture_output=True, check=True)  # warm up
            command[6] = str(args.seconds)
            before = bp.cpu_seconds(gateway.pid)
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            cpu = bp.cpu_seconds(gateway.pid) - before
            answers = next(line for line in out.splitlines() if line.startswith("ANSWERS"))
            results = int(answers.split("results=")[1].split()[0])
            if "failures=0" not in answers or results == 0:
                raise SystemExit(f"idle_poll_cost: refused: {answers} from {target.name}")
            latency = next(line for line in out.splitlines() if line.startswith("LATENCY"))
            print(f"{target.name:16} upstream {args.delay_ms:g} ms: {results} calls, CPU per call {cpu / results * 1e6:,.0f} µs, {latency}")
        finally:
            gateway.terminate()
            gateway.wait(timeout=10)


if __name__ == "__main__":
    main()
