#!/usr/bin/env python3
"""Soak test for awsgw: hours-long habits in minutes.

Starts a stand-in for AWS's Network Manager (rest-json) on a loopback port, starts
`awsgw serve` in front of it (TCP and Unix listeners, bearer-token teams, audit log in a
temporary folder), and drives it at concurrency 64 with a mix of valid calls, AWS
errors, throttles, timeouts, invalid JSON, unknown methods, batches and notifications,
over HTTP/1.1 (keep-alive and a connection per call) and NDJSON (TCP and Unix).

Every 10 s it prints the gateway's RSS, open descriptors and calls/s. After the warm-up
it takes a baseline; it passes when, at the end, RSS is within 10% of the baseline, the
descriptor count within 10% (+8), every request got exactly one answer (checked per id),
and the gateway is still alive and answers GET /healthz. Exit 0 on PASS, 1 on FAIL.

    make soak                                   # release build, 600 s
    python3 scripts/soak.py --awsgw .build/debug/awsgw --duration 90 --warmup 30

Python 3 standard library only; loopback only; not part of CI.
"""

import argparse
import collections
import ctypes
import glob
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Two bearer tokens: the main team, and a team whose calls AWS throttles (AWS throttling a
# team's operation makes the gateway hold that team's calls of it back for a while, which
# must not spill over onto the main traffic).
TOKEN = "soak-token-main"
THROTTLED_TOKEN = "soak-token-throttled"

SECRET_KEY = "soakSECRETsoakSECRETsoakSECRETsoakSECRET"
SLOW_SECONDS = 1.5   # how long the stand-in sits on a "slow" call
TIMEOUT_MS = 250     # the $timeoutMs those calls carry
CONCURRENCY = 64
SAMPLE_EVERY = 10.0
SOCKET_TIMEOUT = 15.0


# ----------------------------------------------------------------------------------------
# The stand-in for AWS (run in its own process: `soak.py --stand-in`), so that the load
# generator and it do not share one interpreter lock.

CONNECT_PEER_PATH = re.compile(r"^/global-networks/([^/?]+)/connect-peer-associations$")


class StandInHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as AWS
    server_version = "soak-stand-in"
    counts = collections.Counter()
    lock = threading.Lock()

    def log_message(self, *args):   # quiet
        pass

    def count(self, what):
        with self.lock:
            self.counts[what] += 1

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "soak-%08x" % random.getrandbits(32))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, error_type, message, headers=()):
        # rest-json: the type in x-amzn-ErrorType (with AWS's ":http://..." tail), the message in the body.
        self.answer(status, {"message": message},
                    headers=[("x-amzn-ErrorType", error_type + ":http://internal.amazon.com/coral/com.amazonaws.networkmanager/")]
                    + list(headers))

    def do_GET(self):
        if self.path == "/__stats":
            with self.lock:
                self.answer(200, dict(self.counts))
            return
        self.count("unexpected")
        self.error(404, "ResourceNotFoundException", "no such resource: " + self.path)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        match = CONNECT_PEER_PATH.match(self.path)
        if not match:
            self.count("unexpected")
            self.error(404, "ResourceNotFoundException", "no such resource: " + self.path)
            return
        if not (self.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256 Credential=") or not self.headers.get("X-Amz-Date"):
            self.count("unsigned")
            self.error(403, "AccessDeniedException", "request is not signed")
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.count("bad-body")
            self.error(400, "ValidationException", "body is not JSON")
            return
        device = body.get("DeviceId", "")
        if device.startswith("device-invalid"):
            self.count("validation")
            self.error(400, "ValidationException", "DeviceId %s does not exist in this global network" % device)
        elif device.startswith("device-throttle"):
            self.count("throttle")
            self.error(503, "ThrottlingException", "Rate exceeded")
        elif device.startswith("device-slow"):
            self.count("slow")
            time.sleep(SLOW_SECONDS)
            try:
                self.answer(200, {"ConnectPeerAssociation": {"ConnectPeerId": body.get("ConnectPeerId"), "GlobalNetworkId": match.group(1),
                                                             "DeviceId": device, "State": "PENDING"}})
            except OSError:
                pass    # the gateway gave up on it, as it should
        else:
            self.count("ok")
            self.answer(200, {"ConnectPeerAssociation": {"ConnectPeerId": body.get("ConnectPeerId"), "GlobalNetworkId": match.group(1),
                                                         "DeviceId": device, "State": "PENDING"}})


class StandInServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


def run_stand_in():
    server = StandInServer(("127.0.0.1", 0), StandInHandler)
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever(poll_interval=0.5)


# ----------------------------------------------------------------------------------------
# Child processes: their own session (Ctrl-C reaches only us; we stop them), and they get
# SIGTERM if we die without cleaning up.

def _child_setup():
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_process(proc, grace=15.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------
# Clients.

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def http_get(target, path, timeout=5.0):
    kind, where = target
    conn = UnixHTTPConnection(where, timeout) if kind == "unix" else http.client.HTTPConnection("127.0.0.1", where, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def read_status(pid):
    rss = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except (FileNotFoundError, ProcessLookupError):
        return None, None
    return rss, fds


class Stats:
    """One worker's counts (only that worker writes them)."""

    FIELDS = ("requests", "expected", "answered", "missing", "duplicate", "unexpected", "null_expected", "null_answered",
              "transport_errors", "bad_http", "wrong_outcome")

    def __init__(self):
        for field in self.FIELDS:
            setattr(self, field, 0)
        self.http_status = collections.Counter()  # HTTP answers other than 200 (and 204 for notifications)
        self.codes = collections.Counter()        # outcome of each answered call: "ok" or the error code
        self.mismatch = collections.Counter()     # (kind, outcome) pairs that were not what that kind should get
        self.examples = []                        # a few problems, to print


ERROR_NAMES = {"ok": "ok", -32700: "parse error", -32600: "invalid request", -32601: "unknown method", -32602: "invalid params",
               -32001: "denied", -32002: "rate limited", -32010: "AWS error", -32011: "AWS unreachable / timeout",
               -32012: "no credentials", -32003: "overloaded", -32603: "internal error"}

# What each kind of call should get (a set of acceptable outcomes).
EXPECTED = {
    "valid": {"ok"},
    "aws-error": {-32010},
    "throttle": {-32010, -32002},   # AWS's ThrottlingException, or held back by the gateway after it
    "timeout": {-32011},
    "unknown-method": {-32601},
    "invalid-params": {-32602},
    "notification": set(),
}


class Worker(threading.Thread):
    """One closed-loop client. mode: http-keepalive, http-reconnect, ndjson, ndjson-reconnect;
    target: ("tcp", port) or ("unix", path)."""

    def __init__(self, index, mode, target, stop, seed):
        super().__init__(name="worker-%d" % index, daemon=True)
        self.index = index
        self.mode = mode
        self.target = target
        self.stop = stop
        self.random = random.Random(seed)
        self.stats = Stats()
        self.seq = 0
        self.conn = None
        self.sock = None
        self.buffer = b""

    # -- building calls ------------------------------------------------------------------

    def next_id(self):
        self.seq += 1
        # Mix string and number ids, as callers do; unique across the whole run.
        return "w%d-%d" % (self.index, self.seq) if self.seq % 2 else self.index * 1_000_000_000 + self.seq

    def call(self, kind, with_id=True):
        n = self.random.randrange(1000)
        params = {"GlobalNetworkId": "global-network-%04d" % (n % 50), "ConnectPeerId": "connect-peer-%04d" % n, "DeviceId": "device-%04d" % n}
        method = "networkmanager.AssociateConnectPeer"
        if kind == "aws-error":
            params["DeviceId"] = "device-invalid-%d" % n
        elif kind == "throttle":
            params["DeviceId"] = "device-throttle-%d" % n
            params["$token"] = THROTTLED_TOKEN
        elif kind == "timeout":
            params["DeviceId"] = "device-slow-%d" % n
            params["$timeoutMs"] = TIMEOUT_MS
        elif kind == "unknown-method":
            method = self.random.choice(["networkmanager.AssociateConnectPear", "networkmanagr.AssociateConnectPeer", "nosuchservice.Do"])
        elif kind == "invalid-params":
            params = {"DeviceId": n}
        # NDJSON over TCP has no header for a token: it goes in params. Every call carries
        # one, an unknown method's too (a caller no team admits is refused before its
        # method is looked up, -32001 rather than -32601).
        if self.mode.startswith("ndjson") and "$token" not in params:
            params["$token"] = TOKEN
        entry = {"jsonrpc": "2.0", "method": method, "params": params}
        if with_id:
            entry["id"] = self.next_id()
        return entry

    def pick_kind(self):
        r = self.random.random()
        for kind, share in (("valid", 0.62), ("aws-error", 0.08), ("throttle", 0.04), ("timeout", 0.03),
                            ("unknown-method", 0.04), ("invalid-params", 0.03), ("invalid-json", 0.05), ("notification", 0.02)):
            if r < share:
                return kind
            r -= share
        return "batch"

    def request(self):
        """One request body: (bytes, {id: kind}, expected null-id answers, answer expected at all)."""
        kind = self.pick_kind()
        if kind == "invalid-json":
            body = self.random.choice([b'{"jsonrpc":"2.0","id":1,"method":', b"not json at all", b'{"jsonrpc": "2.0", "id": [1,}',
                                       b'[{"jsonrpc":"2.0","id":2,"method":"x"'])
            return body, {}, 1, True
        if kind == "batch":
            entries, ids = [], {}
            for _ in range(self.random.randint(2, 6)):
                member = self.pick_kind()
                if member in ("batch", "invalid-json"):
                    member = "valid"
                entry = self.call(member, with_id=member != "notification")
                entries.append(entry)
                if "id" in entry:
                    ids[json.dumps(entry["id"])] = member
            return json.dumps(entries).encode(), ids, 0, bool(ids)
        entry = self.call(kind if kind != "notification" else "valid", with_id=kind != "notification")
        ids = {json.dumps(entry["id"]): kind} if "id" in entry else {}
        return json.dumps(entry).encode(), ids, 0, bool(ids)

    # -- checking answers ----------------------------------------------------------------

    def note(self, text):
        if len(self.stats.examples) < 5:
            self.stats.examples.append(text)

    def check_answer(self, answer, pending, nulls):
        """One JSON-RPC answer object. Returns how many null-id answers it used up."""
        s = self.stats
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0" or (("result" in answer) == ("error" in answer)):
            s.unexpected += 1
            self.note("malformed answer: %r" % (answer,))
            return 0
        outcome = "ok" if "result" in answer else answer["error"].get("code")
        s.codes[outcome] += 1
        key = json.dumps(answer.get("id"))
        if answer.get("id") is None:
            s.null_answered += 1
            if nulls <= 0:
                s.unexpected += 1
                self.note("unexpected null-id answer: %r" % (answer,))
            return 1
        if key not in pending:
            if key in self.answered_ids:
                s.duplicate += 1
                self.note("second answer for id %s" % key)
            else:
                s.unexpected += 1
                self.note("answer for an id never sent: %s" % key)
            return 0
        kind = pending.pop(key)
        self.answered_ids.add(key)
        s.answered += 1
        if outcome not in EXPECTED.get(kind, {outcome}):
            s.wrong_outcome += 1
            s.mismatch[(kind, outcome)] += 1
        return 0

    def account(self, ids, nulls):
        self.stats.requests += 1
        self.stats.expected += len(ids)
        self.stats.null_expected += nulls
        self.answered_ids = set()

    # -- HTTP --------------------------------------------------------------------------

    def http_connection(self):
        kind, where = self.target
        if kind == "unix":
            return UnixHTTPConnection(where, SOCKET_TIMEOUT)
        return http.client.HTTPConnection("127.0.0.1", where, timeout=SOCKET_TIMEOUT)

    def http_round(self):
        body, ids, nulls, answered = self.request()
        self.account(ids, nulls)
        pending = dict(ids)
        headers = {"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN}
        reconnect = self.mode == "http-reconnect"
        if reconnect:
            headers["Connection"] = "close"   # the gateway closes first, so TIME_WAIT stays on its side
        if self.conn is None:
            self.conn = self.http_connection()
        try:
            self.conn.request("POST", "/", body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.stats.transport_errors += 1
            self.stats.missing += len(pending)
            self.note("%s over %s: %r" % (self.mode, self.target[0], error))
            self.conn.close()
            self.conn = None
            return
        if reconnect or response.will_close:
            self.conn.close()
            self.conn = None
        if not answered:
            if response.status != 204 or data:
                self.stats.bad_http += 1
                self.note("expected 204 for notifications, got %d %r" % (response.status, data[:200]))
            return
        # 200, or another status carrying JSON-RPC answers (503 with -32003 when overloaded).
        if response.status != 200:
            self.stats.http_status[response.status] += 1
        try:
            parsed = json.loads(data)
        except ValueError:
            self.stats.bad_http += 1
            self.stats.missing += len(pending)
            self.note("HTTP %d, answer is not JSON: %r" % (response.status, data[:200]))
            return
        used = 0
        for answer in (parsed if isinstance(parsed, list) else [parsed]):
            used += self.check_answer(answer, pending, nulls - used)
        self.stats.missing += len(pending) + max(0, nulls - used)
        if pending:
            self.note("no answer for ids %s" % sorted(pending)[:5])

    # -- NDJSON ------------------------------------------------------------------------

    def ndjson_connect(self):
        kind, where = self.target
        if kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SOCKET_TIMEOUT)
            sock.connect(where)
        else:
            sock = socket.create_connection(("127.0.0.1", where), timeout=SOCKET_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def ndjson_close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buffer = b""

    def ndjson_round(self):
        """A burst of 1..8 lines, pipelined; answers come in completion order."""
        lines, pending, nulls, answer_lines = [], {}, 0, 0
        for _ in range(self.random.randint(1, 8)):
            body, ids, n, answered = self.request()
            lines.append(body.replace(b"\n", b" "))
            pending.update(ids)
            nulls += n
            answer_lines += 1 if answered or n else 0
        self.account(pending, nulls)
        self.stats.requests += len(lines) - 1
        try:
            if self.sock is None:
                self.sock = self.ndjson_connect()
            self.sock.sendall(b"\n".join(lines) + b"\n")
            if self.mode == "ndjson-reconnect":
                self.sock.shutdown(socket.SHUT_WR)   # done sending: the gateway answers, then closes
            got, used = 0, 0
            while got < answer_lines:
                newline = self.buffer.find(b"\n")
                if newline < 0:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("connection closed with %d answers outstanding" % (answer_lines - got))
                    self.buffer += chunk
                    continue
                line, self.buffer = self.buffer[:newline], self.buffer[newline + 1:]
                got += 1
                parsed = json.loads(line)
                for answer in (parsed if isinstance(parsed, list) else [parsed]):
                    used += self.check_answer(answer, pending, nulls - used)
            if self.mode == "ndjson-reconnect":
                rest = self.sock.recv(65536)   # nothing more, then the gateway's close
                while rest:
                    self.stats.unexpected += rest.count(b"\n")
                    self.note("extra NDJSON answer: %r" % rest[:200])
                    rest = self.sock.recv(65536)
                self.ndjson_close()
            self.stats.missing += len(pending) + max(0, nulls - used)
        except (OSError, ValueError) as error:
            self.stats.transport_errors += 1
            self.stats.missing += len(pending)
            self.note("%s over %s: %r" % (self.mode, self.target[0], error))
            self.ndjson_close()

    def run(self):
        round_ = self.http_round if self.mode.startswith("http") else self.ndjson_round
        while not self.stop.is_set():
            failed = self.stats.transport_errors
            round_()
            if self.stats.transport_errors != failed:
                self.stop.wait(0.1)   # do not spin against a gateway that is gone
        if self.conn is not None:
            self.conn.close()
        self.ndjson_close()

    @property
    def calls(self):
        return self.stats.answered + self.stats.null_answered


def worker_plan(port, unix_path):
    """64 workers: mostly keep-alive HTTP, a share reconnecting for every call, NDJSON on both."""
    tcp, unix = ("tcp", port), ("unix", unix_path)
    plan = [("http-keepalive", tcp)] * 30 + [("http-keepalive", unix)] * 12 \
        + [("http-reconnect", tcp)] * 6 + [("http-reconnect", unix)] * 4 \
        + [("ndjson", tcp)] * 6 + [("ndjson-reconnect", tcp)] * 2 + [("ndjson", unix)] * 2 + [("ndjson-reconnect", unix)] * 2
    assert len(plan) == CONCURRENCY
    return plan


# ----------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--awsgw", default=os.path.join(REPO, ".build/release/awsgw"), help="the gateway binary")
    parser.add_argument("--models", default=os.environ.get("AWSGW_MODELS") or os.path.join(REPO, "models"), help="the botocore data folder")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the baseline is taken (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (config, gateway log, audit logs)")
    parser.add_argument("--stand-in", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stand_in:
        run_stand_in()
        return 0
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    if not os.access(args.awsgw, os.X_OK):
        print("soak: %s is not an executable (build it: make release)" % args.awsgw, file=sys.stderr)
        return 1
    if not os.path.isdir(args.models):
        print("soak: no models at %s (make setup)" % args.models, file=sys.stderr)
        return 1
    seed = args.seed if args.seed is not None else int(time.time())

    work = tempfile.mkdtemp(prefix="awsgw-soak-")
    os.chmod(work, 0o700)
    stand_in = gateway = None
    stop = threading.Event()
    interrupted = []

    def on_signal(signum, _frame):
        interrupted.append(signum)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        # The stand-in for AWS.
        stand_in = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--stand-in"], stdout=subprocess.PIPE,
                                    preexec_fn=_child_setup)
        upstream_port = int(stand_in.stdout.readline())

        # The gateway.
        port = free_port()
        unix_path = os.path.join(work, "awsgw.sock")
        config_path = os.path.join(work, "awsgw.yaml")
        sha = lambda token: hashlib.sha256(token.encode()).hexdigest()
        with open(config_path, "w") as f:
            f.write("""# written by scripts/soak.py
listen: ["tcp:127.0.0.1:%(port)d", "unix:%(unix)s"]
socket_mode: "0600"
region: us-west-2
credentials: { default: { source: env } }
teams:
  soak: { members: ["token-sha256:%(main)s"], allow: ["*:*"] }
  soak-throttled: { members: ["token-sha256:%(throttled)s"], allow: ["*:*"] }
logs: { dir: %(logs)s, rotate_bytes: 4MiB, rotate_age: 1m, keep: 3, params: full }
log_level: warning
upstream: { connect_timeout: 2s, request_timeout: 10s }
""" % {"port": port, "unix": unix_path, "main": sha(TOKEN), "throttled": sha(THROTTLED_TOKEN), "logs": os.path.join(work, "logs")})
        env = {
            "PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8",
            "AWSGW_MODELS": os.path.abspath(args.models),
            "AWS_ACCESS_KEY_ID": "AKIDSOAKEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_NETWORKMANAGER": "http://127.0.0.1:%d" % upstream_port,
        }
        gateway_log = open(os.path.join(work, "gateway.log"), "wb")
        gateway = subprocess.Popen([os.path.abspath(args.awsgw), "serve", "--config", config_path], cwd=work, env=env,
                                   stdout=gateway_log, stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        tcp_target, unix_target = ("tcp", port), ("unix", unix_path)
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_get(tcp_target, "/healthz")[0] == 200 and http_get(unix_target, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if gateway.poll() is not None or time.monotonic() > deadline or stop.is_set():
                gateway_log.flush()
                print("soak: the gateway did not start:\n" + open(os.path.join(work, "gateway.log")).read()[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.1)
        idle_rss, idle_fds = read_status(gateway.pid)
        print("soak: awsgw %s (pid %d) on tcp:127.0.0.1:%d and unix:%s; stand-in for AWS on 127.0.0.1:%d; work folder %s"
              % (args.awsgw, gateway.pid, port, unix_path, upstream_port, work))
        print("soak: %d workers for %.0f s (baseline after %.0f s), seed %d; idle gateway: RSS %.1f MB, %d fds"
              % (CONCURRENCY, args.duration, args.warmup, seed, idle_rss / 2**20, idle_fds))

        workers = [Worker(i, mode, target, stop, seed * 1000 + i) for i, (mode, target) in enumerate(worker_plan(port, unix_path))]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        end = started + args.duration
        samples, baseline = [], None
        last_t, last_calls = started, 0
        next_sample = started + SAMPLE_EVERY
        while not stop.is_set():
            stop.wait(max(0.0, min(next_sample, end) - time.monotonic()))
            if stop.is_set():
                break
            now = time.monotonic()
            if now < next_sample and now < end:
                continue
            calls = sum(w.calls for w in workers)
            rss, fds = read_status(gateway.pid)
            alive = gateway.poll() is None
            rate = (calls - last_calls) / max(1e-9, now - last_t)
            last_t, last_calls = now, calls
            errors = sum(w.stats.transport_errors + w.stats.missing for w in workers)
            if rss is None or not alive:
                print("[%5.0fs] the gateway is gone (exit status %s)" % (now - started, gateway.poll()))
                break
            samples.append((now - started, rss, fds, rate))
            marker = ""
            if baseline is None and now - started >= args.warmup - 0.5:
                baseline = (rss, fds)
                marker = "  <- baseline"
            print("[%5.0fs] RSS %7.1f MB  fds %5d  calls/s %7.0f  calls %9d  lost %d%s"
                  % (now - started, rss / 2**20, fds, rate, calls, errors, marker), flush=True)
            next_sample += SAMPLE_EVERY
            if now >= end:
                break
        stop.set()
        for worker in workers:
            worker.join(timeout=SOCKET_TIMEOUT + 5)
        stuck = [w.name for w in workers if w.is_alive()]
        elapsed = time.monotonic() - started

        # After the load: still alive and healthy on both listeners?
        time.sleep(1.0)
        alive = gateway.poll() is None
        health = {}
        for name, target in (("tcp", tcp_target), ("unix", unix_target)):
            try:
                status, body = http_get(target, "/healthz")
                health[name] = "%d %s" % (status, body.decode(errors="replace").strip())
            except OSError as error:
                health[name] = repr(error)
        healthy = alive and all(v.startswith("200") for v in health.values())
        after_rss, after_fds = read_status(gateway.pid) if alive else (None, None)
        metrics = {}
        try:
            for line in http_get(tcp_target, "/metrics")[1].decode().splitlines():
                name = line.split("{")[0].split(" ")[0]
                if name in ("awsgw_audit_dropped_total", "awsgw_connections_rejected_total", "awsgw_calls_overloaded_total",
                            "awsgw_connections_reaped_total", "awsgw_upstream_attempts_total"):
                    metrics[name] = metrics.get(name, 0) + float(line.rsplit(" ", 1)[1])
        except (OSError, ValueError, IndexError):
            pass
        try:
            status, body = http_get(("tcp", upstream_port), "/__stats")
            upstream_counts = json.loads(body)
        except (OSError, ValueError):
            upstream_counts = {}

        # A clean stop on SIGTERM (the audit log is finished), then no secret in the audit
        # logs (params: full) or the gateway's output.
        exit_status = None
        if alive:
            stop_process(gateway)
            exit_status = gateway.returncode
        gateway_log.flush()
        leaked, records = [], 0
        texts = [open(os.path.join(work, "gateway.log"), "rb").read()]
        for path in sorted(glob.glob(os.path.join(work, "logs", "*.gz"))):
            with open(path, "rb") as f:
                # Member by member, and whatever a file cut short holds.
                data, out = f.read(), []
                while data:
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    try:
                        out.append(d.decompress(data))
                    except zlib.error:
                        break
                    data = d.unused_data
                texts.append(b"".join(out))
        for text in texts[1:]:
            records += text.count(b"\n")
        for secret in (SECRET_KEY, TOKEN, THROTTLED_TOKEN):
            if any(secret.encode() in text for text in texts):
                leaked.append(secret)

        # Totals.
        total = Stats()
        for worker in workers:
            for field in Stats.FIELDS:
                setattr(total, field, getattr(total, field) + getattr(worker.stats, field))
            total.codes.update(worker.stats.codes)
            total.http_status.update(worker.stats.http_status)
            total.mismatch.update(worker.stats.mismatch)
            total.examples += worker.stats.examples
        calls = total.answered + total.null_answered

        print("")
        print("soak summary (%s, %.0f s of load, concurrency %d, seed %d)" % (args.awsgw, elapsed, CONCURRENCY, seed))
        print("  requests %d, calls answered %d, %.0f calls/s" % (total.requests, calls, calls / max(elapsed, 1e-9)))
        mix = ", ".join("%s %d (%.1f%%)" % (ERROR_NAMES.get(code, code), n, 100.0 * n / max(1, calls))
                        for code, n in total.codes.most_common())
        print("  outcomes: " + mix)
        print("  gateway metrics: " + ", ".join("%s %.0f" % kv for kv in sorted(metrics.items())))
        print("  audit log: %d files kept, %d records in them; secrets found in logs/output: %s"
              % (len(texts) - 1, records, ", ".join(leaked) if leaked else "none"))
        print("  stand-in for AWS saw: " + ", ".join("%s %d" % kv for kv in sorted(upstream_counts.items())))
        print("  answers: %d ids sent, %d answered once, %d missing, %d duplicate, %d unexpected; null-id %d/%d; "
              "transport errors %d, bad HTTP %d"
              % (total.expected, total.answered, total.missing, total.duplicate, total.unexpected, total.null_answered,
                 total.null_expected, total.transport_errors, total.bad_http))
        if total.http_status:
            print("  note: HTTP statuses other than 200/204: " + ", ".join("%d: %d" % kv for kv in sorted(total.http_status.items())))
        if total.mismatch:
            print("  note: outcomes other than expected (kind -> outcome: count): " + ", ".join(
                "%s -> %s: %d" % (k, ERROR_NAMES.get(o, o), n) for (k, o), n in total.mismatch.most_common(8)))
        for example in total.examples[:8]:
            print("  example: " + example)

        failures = []
        if interrupted:
            failures.append("interrupted")
        if baseline is None or not samples:
            failures.append("no baseline (the run ended before the warm-up did)")
        else:
            final_rss, final_fds = samples[-1][1], samples[-1][2]
            rss_ok = final_rss <= baseline[0] * 1.10
            fds_ok = final_fds <= baseline[1] * 1.10 + 8
            print("  RSS: baseline %.1f MB, final %.1f MB (%+.1f%%) %s" % (baseline[0] / 2**20, final_rss / 2**20,
                  100.0 * (final_rss - baseline[0]) / baseline[0], "ok" if rss_ok else "over +10%"))
            print("  fds: baseline %d, final %d (%+d) %s" % (baseline[1], final_fds, final_fds - baseline[1],
                  "ok" if fds_ok else "over +10%+8"))
            if not rss_ok:
                failures.append("RSS grew more than 10%")
            if not fds_ok:
                failures.append("descriptors grew more than 10% + 8")
        if after_rss is not None:
            print("  after the load: RSS %.1f MB, %d fds (idle at start: %.1f MB, %d fds)"
                  % (after_rss / 2**20, after_fds, idle_rss / 2**20, idle_fds))
        print("  gateway alive: %s; GET /healthz: tcp %s, unix %s; exit status on SIGTERM: %s"
              % (alive, health.get("tcp"), health.get("unix"), exit_status))
        if total.missing or total.duplicate or total.unexpected or total.transport_errors or total.bad_http \
                or total.null_answered != total.null_expected or total.answered != total.expected:
            failures.append("not every request got exactly one answer")
        if alive and exit_status != 0:
            failures.append("the gateway did not stop cleanly on SIGTERM (exit status %s)" % exit_status)
        if leaked:
            failures.append("a secret or token appears in the audit log or the gateway's output")
        if stuck:
            failures.append("workers still waiting: %s" % ", ".join(stuck[:5]))
        if not healthy:
            failures.append("the gateway is not alive and healthy")
        if failures:
            print("FAIL: " + "; ".join(failures))
            if gateway_log and not gateway_log.closed:
                gateway_log.flush()
            tail = open(os.path.join(work, "gateway.log"), errors="replace").read()[-2000:]
            if tail.strip():
                print("gateway log (last lines):\n" + tail)
            return 1
        print("PASS")
        return 0
    finally:
        stop.set()
        stop_process(gateway)
        stop_process(stand_in, grace=5)
        if args.keep:
            print("soak: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
