"""How long the counter presenter itself takes (no network, no Kivy drawing).

* ``next_press_to_request``: ``presenter.next()`` called → ``bus.request("call_next")`` entered;
* ``window_update_to_view``: a ``state/window/<n>`` payload delivered → subscribers
  have the new :class:`~counter_app.view.CounterView`.

``python -m bench.counter [--quick]`` prints JSON (milliseconds).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from broker.fake_bus import FakeBus
from counter_app.presenter import CounterPresenter

WINDOW = 1
CONFIG = {"v": 1, "topics": [{"code": "A", "prefix": "А", "name": {"ru": "Договоры", "en": "Contracts"},
                              "wait_norm_min": 10, "service_norm_min": 15}],
          "windows": [{"number": WINDOW, "topics": ["A"]}]}


def _summary(samples_ns: list[int]) -> dict:
    ms = sorted(s / 1e6 for s in samples_ns)
    return {"median_ms": round(statistics.median(ms), 4),
            "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 4),
            "n": len(ms)}


def _window(seq: int, number: str | None) -> dict:
    ticket = None if number is None else {"number": number, "topic": "A", "state": "called",
                                          "called_at": "2025-01-01T10:00:00+05:00",
                                          "started_at": None, "recalls": 0}
    return {"v": 1, "seq": seq, "window": WINDOW, "state": "open", "break_kind": None,
            "operator": {"code": "ivanova", "name": "Иванова Анна"}, "ticket": ticket, "topics": ["A"],
            "actions": ["call_next", "pause", "close"] if ticket is None else ["recall", "start", "no_show", "transfer"]}


def bench_next(n: int) -> dict:
    sent_at: list[int] = []
    bus = FakeBus(handler=lambda op, args: sent_at.append(time.perf_counter_ns()) or {"ticket": None})
    bus.set_state("config", CONFIG)
    bus.set_state(f"window/{WINDOW}", _window(1, None))
    presenter = CounterPresenter(bus, WINDOW).start()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        if not presenter.next():
            raise RuntimeError("the Next press was refused")
        samples.append(sent_at[-1] - t0)
    return _summary(samples)


def bench_window_update(n: int) -> dict:
    bus = FakeBus()
    bus.set_state("config", CONFIG)
    presenter = CounterPresenter(bus, WINDOW).start()
    seen: list[tuple[str, int]] = []
    presenter.subscribe(lambda view: seen.append((view.ticket_number, time.perf_counter_ns())))
    samples = []
    for i in range(n):
        number = f"А{i % 1000:03d}"
        t0 = time.perf_counter_ns()
        bus.set_state(f"window/{WINDOW}", _window(i + 2, number))
        got, t1 = seen[-1]
        if got != number:
            raise RuntimeError("the view did not follow the window state")
        samples.append(t1 - t0)
    return _summary(samples)


def run(quick: bool) -> dict:
    n = 300 if quick else 5000
    bench_next(20), bench_window_update(20)  # warm up
    return {"next_press_to_request": bench_next(n),
            "window_update_to_view": bench_window_update(n)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.counter", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
