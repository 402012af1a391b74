"""Benchmark ``hub``: a real ``talon hub`` process with a durable SQLite file, and
simulated kiosks, counters and a board as separate MQTT clients.

Figures: call latency (counter publishes *Next* → the board client receives the
``called`` event), issue latency (kiosk command → reply), sustained commands per
second with every window working at once, and the hub's RSS.
Run ``talon bench hub [--broker mosquitto|amqtt] [--windows 50] [--quick] [--json]``.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.harness import free_port, office_toml, percentile, rss_mb, stop_process

GOALS = {"call_latency_ms.p50": ("<=", 2), "call_latency_ms.p99": ("<=", 10),
         "commands_per_s": (">=", 500), "hub_rss_mb": ("<=", 120)}


def run(quick: bool = False, broker: str = "mosquitto", windows: int | None = None) -> dict:
    import logging
    logging.getLogger("broker").setLevel(logging.WARNING)     # 50 clients connecting is not news
    from hub import directory
    from hub.brokers import find_mosquitto
    from broker.client import HubClient
    from queue_core.config import parse_office_toml
    from storage.engine import init_db, make_engine, make_sessionmaker

    if broker == "mosquitto" and not find_mosquitto():
        return {"skipped": "mosquitto is not installed"}
    windows = windows or (10 if quick else 50)
    cycles = 4 if quick else 10
    issues = 60 if quick else 200
    tmp = Path(tempfile.mkdtemp(prefix="talon-bench-hub-"))
    os.chmod(tmp, 0o755)     # mosquitto runs as its own user and must reach its files
    config_path = tmp / "office.toml"
    config_path.write_text(office_toml(windows), encoding="utf-8")
    parse_office_toml(config_path.read_text(encoding="utf-8"))   # fail here, not in the hub, if it is wrong
    url = f"sqlite:///{tmp / 'talon.db'}"
    engine = make_engine(url)
    init_db(engine)
    passwords: dict[str, str] = {}
    with make_sessionmaker(engine)() as s, s.begin():
        passwords["kiosk-1"] = directory.add_device(s, "bench", "kiosk-1", "kiosk")
        passwords["board-1"] = directory.add_device(s, "bench", "board-1", "board")
        for n in range(1, windows + 1):
            passwords[f"counter-{n}"] = directory.add_device(s, "bench", f"counter-{n}", "counter", window=n)
    engine.dispose()
    port = free_port()
    hub = subprocess.Popen([sys.executable, "-m", "talon", "hub", "--config", str(config_path), "--data", str(tmp),
                            "--broker-kind", broker, "--port", str(port), "--no-web"],
                           stdout=(tmp / "hub.log").open("w"), stderr=subprocess.STDOUT,
                           env={**os.environ, "TALON_LOG": "WARNING"})
    clients: list[HubClient] = []
    broker_url = f"mqtt://127.0.0.1:{port}"
    auth = broker == "mosquitto"

    def client(device: str, role: str) -> HubClient:
        c = HubClient(broker_url, "bench", device, role, password=passwords[device] if auth else None)
        clients.append(c)
        return c

    try:
        board = client("board-1", "board")
        seen: dict[str, float] = {}
        seen_lock = threading.Condition()

        def on_event(e: dict) -> None:
            if e.get("kind") == "called":
                with seen_lock:
                    seen[e["ticket"]] = time.perf_counter()
                    seen_lock.notify_all()

        board.on_event(on_event)
        kiosk = client("kiosk-1", "kiosk")
        counters = [client(f"counter-{n}", "counter") for n in range(1, windows + 1)]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(c.wait_ready(0.1) for c in clients):
                try:
                    kiosk.request("ping", timeout=1)
                    break
                except Exception:
                    pass
        for n, c in enumerate(counters, 1):
            c.request("open", {"window": n})

        issue_ms = []
        for i in range(issues):
            began = time.perf_counter()
            kiosk.request("issue", {"topic": "AR"[i % 2], "kind": "walk_in"})
            issue_ms.append((time.perf_counter() - began) * 1000)
        # a realistic hall: about two visitors waiting per window (the issue phase left some)
        for i in range(max(0, 2 * windows - issues)):
            kiosk.request("issue", {"topic": "AR"[i % 2], "kind": "walk_in"})

        def call(n: int, c: HubClient) -> float | None:
            """Next at window n; ms until the board saw the call (None if it never did)."""
            began = time.perf_counter()
            ticket = c.request("call_next", {"window": n}, timeout=10)["ticket"]
            with seen_lock:
                seen_lock.wait_for(lambda: ticket["number"] in seen, timeout=10)
                arrived = seen.get(ticket["number"])
            c.request("start", {"window": n}, timeout=10)
            c.request("finish", {"window": n}, timeout=10)
            return None if arrived is None else (arrived - began) * 1000

        # Latency: every window active, calls arriving one at a time (an office's real rhythm),
        # a new visitor arriving for each one called.
        call_ms = []
        for _ in range(cycles // 2 or 1):
            for n, c in enumerate(counters, 1):
                kiosk.request("issue", {"topic": "AR"[n % 2], "kind": "walk_in"})
                if (ms := call(n, c)) is not None:
                    call_ms.append(ms)
        for i in range(windows * (cycles - (cycles // 2 or 1))):      # visitors for the saturated phase
            kiosk.request("issue", {"topic": "AR"[i % 2], "kind": "walk_in"})

        # Throughput: all windows pressing their buttons as fast as the hub answers.
        commands = [0]
        lock = threading.Lock()
        loaded_ms: list[float] = []

        def work(n: int, c: HubClient) -> None:
            for _ in range(cycles - (cycles // 2 or 1)):
                ms = call(n, c)
                with lock:
                    commands[0] += 3
                    if ms is not None:
                        loaded_ms.append(ms)

        threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(counters, 1)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.perf_counter() - began
        rss = rss_mb(hub.pid)
        return {
            "broker": broker,
            "windows": windows,
            "call_latency_ms": {"p50": percentile(call_ms, 0.5), "p99": percentile(call_ms, 0.99), "n": len(call_ms)},
            "call_latency_saturated_ms": {"p50": percentile(loaded_ms, 0.5), "p99": percentile(loaded_ms, 0.99)},
            "issue_latency_ms": {"p50": percentile(issue_ms, 0.5), "p99": percentile(issue_ms, 0.99), "n": len(issue_ms),
                                 "median": round(statistics.median(issue_ms), 2)},
            "commands_per_s": round(commands[0] / elapsed),
            "hub_rss_mb": rss,
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
