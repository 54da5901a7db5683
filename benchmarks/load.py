"""Drive HTTP load: wrk (with Lua scripts for POSTs) or a bounded Python fallback."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import requests

CONNECTIONS = 16
THREADS = 2


def run_timed(threads: list[threading.Thread]) -> float:
    """Start *threads*, wait for all of them, and return the seconds it took."""
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def ensure_tool(name: str) -> str | None:
    """Return the program's path, installing its Debian package when root and missing."""
    path = shutil.which(name)
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", name], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        path = shutil.which(name)
    return path


def ensure_wrk() -> str | None:
    """Return wrk's path, installing the Debian package when root and missing."""
    return ensure_tool("wrk")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def lua_script(requests_: list[dict]) -> str:
    """Return a wrk script cycling through *requests_* (method, path, body, headers)."""
    entries = []
    for r in requests_:
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}"
                            for k, v in (r.get("headers") or {}).items())
        body = _lua_string(r["body"]) if r.get("body") is not None else "nil"
        entries.append(f'{{ {_lua_string(r.get("method", "GET"))}, {_lua_string(r["path"])}, '
                       f'{body}, {{ {headers} }} }}')
    return ("local reqs = {\n" + ",\n".join(entries) + "\n}\n"
            "local n = #reqs\n"
            "local i = 0\n"
            "function init(args) i = math.random(n) end\n"
            "function request()\n"
            "  i = i % n + 1\n"
            "  local r = reqs[i]\n"
            "  return wrk.format(r[1], r[2], r[4], r[3])\n"
            "end\n")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, base_url: str, requests_: list[dict], duration: float) -> dict:
    """Run wrk at CONNECTIONS connections; return requests/s, p99 ms and error counts."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(requests_))
    try:
        out = subprocess.run(
            [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, int(duration))}s",
             "--latency", "-s", script.name, base_url],
            capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(rps.group(1)) if rps else 0.0,
            "p99_ms": _ms(*p99.groups()) if p99 else None,
            "requests": int(total.group(1)) if total else 0,
            "bad_status": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else None, "tool": "wrk"}


def run_python(base_url: str, requests_: list[dict], duration: float) -> dict:
    """The fallback: CONNECTIONS threads with keep-alive sessions, for *duration* seconds."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker(offset: int) -> None:
        session, mine, errors, i = requests.Session(), [], 0, offset
        while time.monotonic() < stop_at:
            r = requests_[i % len(requests_)]
            i += 1
            start = time.perf_counter()
            response = session.request(r.get("method", "GET"), base_url + r["path"],
                                        data=r.get("body"), headers=r.get("headers"),
                                        allow_redirects=False, timeout=30)
            mine.append(time.perf_counter() - start)
            errors += response.status_code >= 400
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    elapsed = run_timed([threading.Thread(target=worker, args=(n * 7,))
                         for n in range(CONNECTIONS)])
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else None
    return {"rps": len(latencies) / elapsed, "p99_ms": p99, "requests": len(latencies),
            "bad_status": bad[0], "socket_errors": None, "tool": "python"}


def drive(base_url: str, requests_: list[dict], duration: float, wrk: str | None) -> dict:
    """Load *base_url* with *requests_* for *duration* seconds by the best tool available."""
    if wrk:
        return run_wrk(wrk, base_url, requests_, duration)
    return run_python(base_url, requests_, duration)
