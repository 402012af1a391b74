"""Benchmark ``hub``: a real ``talon hub`` process with a durable SQLite file, and
simulated kiosks, counters and a board as separate MQTT clients.

Figures: call latency (counter publishes *Next* → the board client receives the
``called`` event), issue latency (kiosk command → reply), sustained commands per
second with every window working at once, and the hub's RSS.
Run ``talon bench hub [--broker mosquitto|amqtt] [--windows 50] [--quick] [--json]``.
"""
from __future__ import annotations

import logging
import statistics
import sys
import threading
import time

from bench.harness import BenchOffice, free_port, percentile, rss_mb, stop_process, wait_ready

GOALS = {"call_latency_ms.p50": ("<=", 2), "call_latency_ms.p99": ("<=", 10),
         "commands_per_s": (">=", 500), "hub_rss_mb": ("<=", 120)}


class _Board:
    """The board's side: when each called ticket arrived."""

    def __init__(self, client):
        self.seen: dict[str, float] = {}
        self.cond = threading.Condition()
        client.on_event(self._on_event)

    def _on_event(self, e: dict) -> None:
        if e.get("kind") == "called":
            with self.cond:
                self.seen[e["ticket"]] = time.perf_counter()
                self.cond.notify_all()

    def arrival(self, ticket: str, timeout: float = 10) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: ticket in self.seen, timeout=timeout)
            return self.seen.get(ticket)


def _issue(kiosk, count: int, offset: int = 0) -> list[float]:
    """``count`` walk-in tickets, alternating topics; the reply time of each in ms."""
    ms = []
    for i in range(count):
        began = time.perf_counter()
        kiosk.request("issue", {"topic": "AR"[(i + offset) % 2], "kind": "walk_in"})
        ms.append((time.perf_counter() - began) * 1000)
    return ms


def _serve_one(board: _Board, n: int, counter) -> float | None:
    """Next, Start, Done at window n; ms from Next until the board saw the call (None if never)."""
    began = time.perf_counter()
    ticket = counter.request("call_next", {"window": n}, timeout=10)["ticket"]
    arrived = board.arrival(ticket["number"])
    counter.request("start", {"window": n}, timeout=10)
    counter.request("finish", {"window": n}, timeout=10)
    return None if arrived is None else (arrived - began) * 1000


def _saturated(board: _Board, counters: list, rounds: int) -> tuple[int, list[float], float]:
    """All windows pressing their buttons as fast as the hub answers: (commands, call ms, seconds)."""
    commands = [0]
    lock = threading.Lock()
    call_ms: list[float] = []

    def work(n: int, c) -> None:
        for _ in range(rounds):
            ms = _serve_one(board, n, c)
            with lock:
                commands[0] += 3
                if ms is not None:
                    call_ms.append(ms)

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(counters, 1)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return commands[0], call_ms, time.perf_counter() - began


def run(quick: bool = False, broker: str = "mosquitto", windows: int | None = None) -> dict:
    from hub.brokers import find_mosquitto

    logging.getLogger("broker").setLevel(logging.WARNING)     # 50 clients connecting is not news
    if broker == "mosquitto" and not find_mosquitto():
        return {"skipped": "mosquitto is not installed"}
    windows = windows or (10 if quick else 50)
    cycles = 4 if quick else 10
    issues = 60 if quick else 200
    office = BenchOffice("bench-hub", windows)
    office.provision([("kiosk-1", "kiosk", None), ("board-1", "board", None),
                      *((f"counter-{n}", "counter", n) for n in range(1, windows + 1))])
    port = free_port()
    hub = office.start_hub(port, "--broker-kind", broker)
    url, auth = f"mqtt://127.0.0.1:{port}", broker == "mosquitto"
    board_client = office.client(url, "board-1", "board", auth)
    kiosk = office.client(url, "kiosk-1", "kiosk", auth)
    counters = [office.client(url, f"counter-{n}", "counter", auth) for n in range(1, windows + 1)]
    clients = [board_client, kiosk, *counters]
    try:
        board = _Board(board_client)
        for c in clients:
            c.start()
        wait_ready(clients, lambda: kiosk.request("ping", timeout=1))
        for n, c in enumerate(counters, 1):
            c.request("open", {"window": n})
        issue_ms = _issue(kiosk, issues)
        _issue(kiosk, max(0, 2 * windows - issues))   # a realistic hall: about two visitors waiting per window
        # Latency: every window active, calls one at a time (an office's real rhythm), a new visitor for each.
        calm_rounds = cycles // 2 or 1
        call_ms = []
        for _ in range(calm_rounds):
            for n, c in enumerate(counters, 1):
                _issue(kiosk, 1, n)
                if (ms := _serve_one(board, n, c)) is not None:
                    call_ms.append(ms)
        _issue(kiosk, windows * (cycles - calm_rounds))           # visitors for the saturated phase
        commands, loaded_ms, elapsed = _saturated(board, counters, cycles - calm_rounds)
        return {
            "broker": broker,
            "windows": windows,
            "call_latency_ms": {"p50": percentile(call_ms, 0.5), "p99": percentile(call_ms, 0.99), "n": len(call_ms)},
            "call_latency_saturated_ms": {"p50": percentile(loaded_ms, 0.5), "p99": percentile(loaded_ms, 0.99)},
            "issue_latency_ms": {"p50": percentile(issue_ms, 0.5), "p99": percentile(issue_ms, 0.99), "n": len(issue_ms),
                                 "median": round(statistics.median(issue_ms), 2)},
            "commands_per_s": round(commands / elapsed),
            "hub_rss_mb": rss_mb(hub.pid),
            "note": "hub in its own process (broker child included in RSS); call latency = Next published → board "
                    "receives the event, windows calling in turn; saturated: all windows at once (commands_per_s)",
        }
    finally:
        for c in clients:
            c.stop()
        stop_process(hub)


if __name__ == "__main__":
    import json
    print(json.dumps(run("--quick" in sys.argv, "amqtt" if "amqtt" in sys.argv else "mosquitto"), indent=2))
