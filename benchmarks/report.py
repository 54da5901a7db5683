"""One table of absolute figures, ratios and targets; the same rows go to JSON."""
from __future__ import annotations

import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def row(name: str, value, unit: str, ratio=None, target: str = "", ok=None, note: str = "") -> dict:
    """One line of the table."""
    return {"name": name, "value": value, "unit": unit, "ratio": ratio, "target": target,
            "ok": ok, "note": note}


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(rows: list[dict]) -> None:
    """Print *rows* aligned, with a verdict per target."""
    header = f"{'scenario':<46} {'value':>11} {'unit':<10} {'ratio':>7}  {'target':<22} verdict"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio']:.0%}" if isinstance(r["ratio"], float) else ""
        verdict = {True: "ok", False: "MISSED", None: ""}[r["ok"]]
        line = (f"{r['name']:<46} {_fmt(r['value']):>11} {r['unit']:<10} {ratio:>7}  "
                f"{r['target']:<22} {verdict}")
        print(line + (f"  ({r['note']})" if r["note"] else ""))
    missed = sum(1 for r in rows if r["ok"] is False)
    if missed:
        # The table cannot hold the reasons; the notes say what was found for each target.
        print(f"\n{missed} of {sum(1 for r in rows if r['ok'] is not None)} targets missed; "
              "the measured reasons: docs/performance.md, 'Targets not met, and why'")


def write_json(payload: dict) -> Path:
    """Write the run under benchmarks/results/ and return the file."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("bench-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
