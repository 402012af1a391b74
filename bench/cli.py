"""``talon bench``: run the project's benchmarks and print each figure beside its goal.

Each benchmark is a module with ``run(quick: bool, **options) -> dict`` and, where the
issues set goals, ``GOALS = {key: (">=" | "<=", value)}``. Figures are medians of
repeated runs measured side by side in one process; nothing here is a test.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import time
from pathlib import Path

BENCHMARKS = {
    "core": "bench.core",
    "hub": "bench.hub",
    "drills": "bench.drills",
    "kiosk": "bench.kiosk",
    "counter": "bench.counter",
    "board": "bench.board",
    "stats": "bench.stats",
    "hq": "bench.hq",
    "phone": "bench.phone",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    p.add_argument("--quick", action="store_true", help="a run under a minute: smaller inputs")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--broker", choices=["mosquitto", "amqtt"], help="hub benchmark: which broker")
    p.add_argument("--windows", type=int, help="hub benchmark: active windows")
    p.add_argument("--pages", type=int, help="phone benchmark: visitors' pages connected (default 300, quick 50)")
    p.add_argument("--out", type=Path, default=Path("bench-results") / "bench.json", help="where to write the JSON")


def _goal_text(value, goal) -> str:
    op, target = goal
    ok = value is not None and (value >= target if op == ">=" else value <= target)
    return f"goal {op} {target}: {'met' if ok else 'NOT met'}"


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def run(args: argparse.Namespace) -> int:
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"talon bench: unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
        return 2
    names = args.names or list(BENCHMARKS)
    report: dict[str, dict] = {}
    goals_by_bench: dict[str, dict] = {}
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        options = {k: getattr(args, k) for k in ("broker", "windows", "pages") if getattr(args, k) is not None}
        accepted = inspect.signature(module.run).parameters
        began = time.perf_counter()
        report[name] = module.run(quick=args.quick, **{k: v for k, v in options.items() if k in accepted})
        report[name]["bench_seconds"] = round(time.perf_counter() - began, 1)
        goals_by_bench[name] = getattr(module, "GOALS", {})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(report[names[0]] if len(names) == 1 else report, ensure_ascii=False))
        return 0
    for name, figures in report.items():
        print(f"== {name}")
        flat: dict = {}
        _flatten("", figures, flat)
        goals = goals_by_bench.get(name, {})
        for key, value in flat.items():
            goal = goals.get(key)
            print(f"  {key:<34} {value!s:<22} {_goal_text(value, goal) if goal else ''}")
    print(f"(written to {args.out})")
    return 0
