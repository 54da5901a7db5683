"""The measured scenarios against a served OSS: status page, lookup, ingestion over HTTP."""
from __future__ import annotations

import json
import random
import re
import threading
from urllib.parse import urlencode

import requests

from . import dataset, env, load
from .workload import Stream

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(page: str) -> str | None:
    """The CSRF token of the lookup form in *page*, if it has one."""
    match = _CSRF.search(page)
    return (match.group(1) or match.group(2)) if match else None


def status_paths(app, ctx: dict, serials: list[int]) -> list[str]:
    """The signed status-page path of each stored order among *serials*."""
    from oss_server.services.tokens import make_status_token

    ids = dataset.order_ids(app, ctx["store_id"], serials)
    return [f"/s/{ctx['slug']}/o/{make_status_token(env.SECRET_KEY, ctx['store_id'], i)}"
            for i in ids.values()]


def status_page(server, app, ctx: dict, serials: list[int], duration: float, wrk) -> dict:
    """GET /s/<slug>/o/<token> for distinct stored orders."""
    paths = status_paths(app, ctx, serials)
    probe = requests.get(server.url + paths[0], timeout=10)
    if probe.status_code != 200:
        return {"measured": False, "reason": f"status page answered {probe.status_code}"}
    return {"measured": True, **load.drive(server.url, [{"path": p} for p in paths], duration, wrk)}


def pipeline_floor(server, duration: float, wrk) -> dict:
    """GET /healthz: a constant JSON answer through every request hook of the OSS."""
    probe = requests.get(server.url + "/healthz", timeout=10)
    if probe.status_code != 200:
        return {"measured": False, "reason": f"/healthz answered {probe.status_code}"}
    return {"measured": True, **load.drive(server.url, [{"path": "/healthz"}], duration, wrk)}


def lookup_form_sessions(server, ctx: dict, count: int) -> list[tuple[str, str]] | str:
    """Fetch the lookup form *count* times; return (csrf token, cookie header) pairs."""
    pairs = []
    for _ in range(count):
        session = requests.Session()
        response = session.get(f"{server.url}/s/{ctx['slug']}/", timeout=10)
        if response.status_code != 200:
            return f"lookup form answered {response.status_code}"
        token = csrf_token(response.text)
        if token is None:
            return "no csrf_token on the lookup form"
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        pairs.append((token, cookie))
    return pairs


def lookup(server, ctx: dict, serials: list[int], duration: float, wrk) -> dict:
    """POST /s/<slug>/lookup for distinct orders with the right verifier (303 expected)."""
    pairs = lookup_form_sessions(server, ctx, 32)
    if isinstance(pairs, str):
        return {"measured": False, "reason": pairs}
    posts = []
    for index, serial in enumerate(serials):
        token, cookie = pairs[index % len(pairs)]
        body = urlencode({"csrf_token": token, "order_number": dataset.order_number(serial),
                          "verifier": dataset.zip_of(serial)})
        posts.append({"method": "POST", "path": f"/s/{ctx['slug']}/lookup", "body": body,
                      "headers": {"Content-Type": "application/x-www-form-urlencoded",
                                  "Cookie": cookie}})
    probe = requests.post(server.url + posts[0]["path"], data=posts[0]["body"],
                          headers=posts[0]["headers"], allow_redirects=False, timeout=10)
    if probe.status_code != 303:
        return {"measured": False, "reason": f"lookup answered {probe.status_code}, not 303"}
    return {"measured": True, **load.drive(server.url, posts, duration, wrk)}


def ingestion_http(server, ctx: dict, batches: int, prefix: str, senders: int = 2) -> dict:
    """POST /api/v1/updates: *batches* batches of 500 from *senders* connections.

    Each sender has orders of its own, as each order manager install does.
    """
    streams = [Stream(f"{prefix}{n}", seed=n) for n in range(senders)]
    bodies = [json.dumps({"updates": streams[i % senders].batch(500)}) for i in range(batches)]
    headers = {"Authorization": f"Bearer {ctx['api_key']}", "Content-Type": "application/json"}
    outcomes: dict[str, int] = {}
    failures = []
    lock = threading.Lock()

    def send(mine: list[str]) -> None:
        session = requests.Session()
        for body in mine:
            response = session.post(f"{server.url}/api/v1/updates", data=body, headers=headers,
                                    timeout=120)
            with lock:
                if response.status_code != 200:
                    failures.append(response.status_code)
                    continue
                for result in response.json()["results"]:
                    outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1

    elapsed = load.run_timed([threading.Thread(target=send, args=(bodies[n::senders],))
                              for n in range(senders)])
    return {"measured": True, "updates_per_s": batches * 500 / elapsed, "outcomes": outcomes,
            "failed_requests": len(failures)}


def sample(first: int, last: int, count: int, seed: int = 1) -> list[int]:
    """Return *count* distinct serials between first and last."""
    rng = random.Random(seed)
    return rng.sample(range(first, last + 1), min(count, last - first + 1))
