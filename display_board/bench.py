"""Board benchmarks: ``python -m display_board.bench [--quick]`` prints JSON.

* ``event_to_model_ms``: an ``event/ticket`` ``called`` handed to the presenter
  (as the bus thread does) until the board model shows it (median, p99);
* ``announce_render_cold_ms`` / ``announce_render_cached_ms``: one announcement
  WAV (chime + espeak-ng voice) rendered into an empty cache, then fetched again.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

from broker.fake_bus import FakeBus
from display_board.presenter import BoardPresenter


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_event_to_model(n: int) -> dict:
    bus = FakeBus()
    seen: dict[str, float] = {}

    def on_change(model):
        if model.history:
            seen.setdefault(model.history[0].ticket, time.perf_counter())

    presenter = BoardPresenter(bus, history=8, min_display_s=0, on_change=on_change).start()
    bus.set_state("config", {"v": 1, "office": {"name": "bench"}, "board": {"history": 8, "min_display_s": 0}})
    times = []
    for i in range(1, n + 1):
        ticket = f"А{i:03d}"
        t0 = time.perf_counter()
        bus.emit({"v": 1, "seq": i, "kind": "called", "ticket": ticket, "topic": "A", "window": 1 + i % 5,
                  "data": {"recalls": 0}})
        times.append((seen[ticket] - t0) * 1000)
    assert presenter.model.history[0].ticket == f"А{n:03d}"
    return {"events": n, "median_ms": round(statistics.median(times), 4), "p99_ms": round(_percentile(times, 0.99), 4)}


def bench_render(n: int) -> dict:
    from hardware.sound import SoundCache, voice_available

    cold, cached = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = SoundCache(tmp)
        for i in range(n):
            t0 = time.perf_counter()
            cache.announcement_path(f"А{i + 1:03d}", 1 + i % 9)
            cold.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            cache.announcement_path(f"А{i + 1:03d}", 1 + i % 9)
            cached.append((time.perf_counter() - t0) * 1000)
    return {"voice": voice_available(), "renders": n,
            "cold_median_ms": round(statistics.median(cold), 2),
            "cached_median_ms": round(statistics.median(cached), 3)}


def run(quick: bool = False) -> dict:
    event = bench_event_to_model(200 if quick else 5000)
    render = bench_render(3 if quick else 20)
    return {
        "event_to_model_ms": {"median": event["median_ms"], "p99": event["p99_ms"], "n": event["events"]},
        "announce_render_cold_ms": render["cold_median_ms"],
        "announce_render_cached_ms": render["cached_median_ms"],
        "voice_engine_available": render["voice"],
        "quick": quick,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m display_board.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
