"""Instructions per unit of work, counted by valgrind: ``python -m benchmarks.instructions``.

On a shared or virtual machine, CPU time per update or per page moves by up to ±8 %
between runs of the same code, more than the 5 % a change may cost. The number of
instructions the process executes for the same work moves by about 0.1 %, so two
versions of the code are compared by running this in each checkout, one after the
other or at once (``make bench-instructions``). It counts this process only, never the
database server's, and an instruction is not a fixed time (a regex runs many cheap
ones): it tells which version does more work, the served table tells how fast.

Each scenario runs in-process, as ``benchmarks.ingest`` does: the app on a new database
of 2,000 orders, a warm-up, then the measured units. Only the measured units are
counted: they run inside ``functools.reduce``, and valgrind counts only while that C
function is on the stack (``--toggle-collect``); nothing else in the run calls it.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import subprocess
import sys
import tempfile

from . import dataset, env, ingest, load, scenarios
from .workload import Stream

SCENARIOS = {
    "ingest": "updates applied in batches of 500, each batch committed",
    "status": "shopper status pages of distinct orders (test client, no cookie)",
    "lookup": "shopper lookup form posts with the right ZIP (test client, session cookie)",
}
ORDERS = 2_000
UNITS = {"ingest": 2_000, "status": 300, "lookup": 300}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    parser.add_argument("--inner", nargs=3, metavar=("DB", "SCENARIO", "UNITS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        kind, scenario, units = args.inner
        _measured(kind, scenario, int(units))
        return 0
    if load.ensure_tool("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    scenarios = tuple(SCENARIOS) if args.scenario == "all" else (args.scenario,)
    print(f"{'scenario':<28} {'instructions per unit':>22}")
    for kind in kinds:
        for scenario in scenarios:
            count = _count(kind, scenario, UNITS[scenario])
            per_unit = f"{count / UNITS[scenario]:,.0f}" if count else "not measured"
            print(f"{kind + ' ' + scenario:<28} {per_unit:>22}   ({SCENARIOS[scenario]})")
    return 0


def _count(kind: str, scenario: str, units: int) -> int:
    """Run one scenario under callgrind; return the instructions of its measured units."""
    with tempfile.TemporaryDirectory(prefix="oss-instructions-") as workdir:
        out = os.path.join(workdir, "callgrind.out")
        command = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
                   "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
                   sys.executable, "-m", "benchmarks.instructions",
                   "--inner", kind, scenario, str(units)]
        # A fixed hash seed: set and dict orders, so the work, are the same in every run.
        run = subprocess.run(command, capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": "0"})
        if run.returncode != 0 or not os.path.exists(out):
            print(run.stderr[-2000:], file=sys.stderr)
            return 0
        with open(out) as counts:
            match = re.search(r"^(?:summary|totals): (\d+)", counts.read(), re.MULTILINE)
        if not match or int(match.group(1)) == 0:
            print("valgrind counted nothing: this Python's library has no symbol for "
                  "functools_reduce (install its debug symbols)", file=sys.stderr)
            return 0
        return int(match.group(1))


def _measured(kind: str, scenario: str, units: int) -> None:
    # Several counts may run at once (one per checkout): each on a database of its own.
    env.PG_DB_NAME = f"oss_bench_instructions_{os.getpid()}"
    bench = env.create_db(kind)
    try:
        app = env.make_app(bench)
        ctx = env.prepare(app)
        dataset.load_orders(app, ctx["store_id"], 1, ORDERS)
        one, warm, work = _scenario(app, ctx, scenario, units)
        from oss_server.ops.collector import tune_for_serving

        # Ingestion runs in one app context, as benchmarks.ingest does; each page request
        # pushes its own, as served.
        context = app.app_context() if scenario == "ingest" else contextlib.nullcontext()
        with context:
            tune_for_serving()  # the collector as served workers run it
            for unit in warm:  # not inside reduce: not counted
                one(0, unit)
            functools.reduce(one, work, 0)
    finally:
        env.drop_db(bench)


def _scenario(app, ctx: dict, scenario: str, units: int):
    """(one unit as a reduce step, warm-up units, measured units)."""
    if scenario == "ingest":
        stream = Stream("I")
        factor_key = app.config["OSS_FACTOR_KEY"]
        warm = [stream.batch(500) for _ in range(3)]
        work = [stream.batch(500) for _ in range(units // 500)]

        def apply(done: int, updates: list) -> int:
            ingest.apply_batch(ctx["store_id"], updates, factor_key)
            return done + 1
        return apply, warm, work
    client = app.test_client()
    serials = list(range(1, ORDERS + 1))
    if scenario == "status":
        paths = scenarios.status_paths(app, ctx, serials)

        def page(done: int, path: str) -> int:
            if client.get(path).status_code != 200:
                raise RuntimeError(f"status page {path} did not answer 200")
            return done + 1
        return page, paths[:50], paths[100:100 + units]
    csrf = scenarios.csrf_token(client.get(f"/s/{ctx['slug']}/").get_data(as_text=True))
    if csrf is None:
        raise RuntimeError("no csrf_token on the lookup form")

    def post(done: int, serial: int) -> int:
        answer = client.post(f"/s/{ctx['slug']}/lookup", data={
            "csrf_token": csrf, "order_number": dataset.order_number(serial),
            "verifier": dataset.zip_of(serial)})
        if answer.status_code != 303:
            raise RuntimeError(f"lookup answered {answer.status_code}, not 303")
        return done + 1
    return post, serials[:50], serials[100:100 + units]


if __name__ == "__main__":
    sys.exit(main())
