"""Benchmark ``phone``: N visitors' phone pages following their tickets by server-sent events.

A real ``talon hub`` process (mosquitto, durable SQLite, and its web server in the same
process), a kiosk client issuing a ticket per page, N stream clients (``/t/<token>/events``)
on ONE selector loop with raw sockets so 300 fit beside the hub on two cores, and a
counter calling tickets.

Figures: ``call_to_page_ms`` — from sending *Next* until the state as of that call
(``seq``) arrived at EVERY connected page of a ticket still live (p50/p99 over every
page and call; ``all_pages_got_every_call`` says none was missed); the hub's call
latency (*Next* → reply) without pages and with them, in the same run; the hub
process's RSS before and with the pages (the web runs in the hub process, so
``web_rss_mb`` is that process too).
Run ``talon bench phone [--pages 300] [--quick] [--json]``.
"""
from __future__ import annotations

import json
import os
import random
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from bench.harness import BenchOffice, free_port, percentile, rss_mb, stop_process, wait_ready

GOALS = {"call_to_page_ms.p99": ("<=", 500), "rss_growth_mb": ("<=", 40)}
SEQ = re.compile(rb'"seq": (\d+)')
FINAL = re.compile(rb'"final": true')


class WebHub:
    """A temporary office served by a ``talon hub`` child process with its web server,
    a kiosk and counters as MQTT clients. ``url_path(ticket)`` is the page of a ticket."""

    def __init__(self, prefix: str = "bench-phone", windows: int = 1, rate_limit: int = 0):
        self.office = BenchOffice(prefix, windows)
        self.office.provision([("kiosk-1", "kiosk", None),
                               *((f"counter-{n}", "counter", n) for n in range(1, windows + 1))])
        self.windows, self.rate_limit = windows, rate_limit
        self.broker_port, self.web_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        self.clients: list = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def add_web_user(self, name: str, password: str, role: str) -> None:
        from server.users import add_user
        from storage.engine import make_engine, make_sessionmaker

        engine = make_engine(self.office.database_url)
        with make_sessionmaker(engine)() as s, s.begin():
            add_user(s, name, password, role)
        engine.dispose()

    def start(self, timeout: float = 60.0) -> None:
        args = [a for a in self.office.hub_args(self.broker_port) if a != "--no-web"]
        args += ["--web-port", str(self.web_port), "--web-host", "127.0.0.1"]
        env = {**os.environ, "TALON_LOG": "WARNING", "TALON_PHONE_RATE_LIMIT": str(self.rate_limit)}
        with (self.office.dir / "hub.log").open("a") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"mqtt://127.0.0.1:{self.broker_port}"
        self.kiosk = self.office.client(url, "kiosk-1", "kiosk")
        self.counters = [self.office.client(url, f"counter-{n}", "counter") for n in range(1, self.windows + 1)]
        self.clients = [self.kiosk, *self.counters]
        for c in self.clients:
            c.start()
        wait_ready(self.clients, lambda: self.kiosk.request("ping", timeout=1), timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.base + "/t/not-a-ticket", timeout=2)
            except urllib.error.HTTPError:
                break                               # the web answers (404 for that address)
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the hub's web server did not start") from None
                time.sleep(0.1)
        for n, c in enumerate(self.counters, 1):
            c.request("open", {"window": n}, timeout=10)

    def issue(self, topic: str = "A") -> dict:
        return self.kiosk.request("issue", {"topic": topic, "kind": "walk_in"}, timeout=10)["ticket"]

    def seq(self) -> int:
        return self.kiosk.request("ping", timeout=10)["seq"]

    @staticmethod
    def url_path(ticket: dict) -> str:
        return "/t/" + ticket["url"].rsplit("/t/", 1)[1]

    def stop(self) -> None:
        for c in self.clients:
            c.stop()
        if self.proc is not None:
            stop_process(self.proc)


class Pages:
    """N event-stream clients on one selector loop (one thread): each keeps the ``seq`` of
    the last state it received and when it arrived."""

    def __init__(self, port: int):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.seq: dict[int, int] = {}              # page id -> seq of its last state
        self.final: set[int] = set()
        self.arrivals: dict[int, list[tuple[int, float]]] = {}
        self.errors = 0
        self._buffers: dict[int, bytes] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="pages", daemon=True)
        self._thread.start()

    def open(self, page: int, path: str) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(f"GET {path}/events HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        s.setblocking(False)
        with self._cond:
            self._buffers[page] = b""
            self.arrivals[page] = []
        self.sel.register(s, selectors.EVENT_READ, page)

    def _loop(self) -> None:
        while not self._stop:
            for key, _mask in self.sel.select(timeout=0.2):
                page, sock = key.data, key.fileobj
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                now = time.perf_counter()
                if not data:
                    self.sel.unregister(sock)
                    sock.close()
                    with self._cond:
                        self.errors += 1
                        self._cond.notify_all()
                    continue
                buffer = self._buffers[page] + data
                *blocks, rest = buffer.split(b"\n\n")
                self._buffers[page] = rest
                for block in blocks:
                    m = SEQ.search(block) if b"event: state" in block else None
                    if m is None:
                        continue
                    with self._cond:
                        self.seq[page] = int(m.group(1))
                        self.arrivals[page].append((self.seq[page], now))
                        if FINAL.search(block):
                            self.final.add(page)
                        self._cond.notify_all()

    def wait_all(self, pages, at_least: int, timeout: float) -> bool:
        """Every page in ``pages`` (not final) has a state as of ``at_least`` or later."""
        with self._cond:
            return self._cond.wait_for(lambda: all(self.seq.get(p, -1) >= at_least or p in self.final
                                                   for p in pages), timeout)

    def arrival(self, page: int, at_least: int) -> float | None:
        with self._cond:
            return next((t for s, t in self.arrivals[page] if s >= at_least), None)

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def _timed(action) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def _serve(hub: WebHub) -> tuple[float, dict]:
    """Next at window 1: (ms until the reply, the ticket), then Start and Done."""
    counter = hub.counters[0]
    began = time.perf_counter()
    ticket = counter.request("call_next", {"window": 1}, timeout=10)["ticket"]
    ms = (time.perf_counter() - began) * 1000
    counter.request("start", {"window": 1}, timeout=10)
    counter.request("finish", {"window": 1}, timeout=10)
    return ms, ticket


def run(quick: bool = False, pages: int | None = None) -> dict:
    from hub.brokers import find_mosquitto

    if not find_mosquitto():
        return {"skipped": "mosquitto is not installed"}
    n_pages = pages if pages is not None else (50 if quick else 300)
    calls = 5 if quick else 40
    hub = WebHub()
    clients: Pages | None = None
    try:
        hub.start()
        pid = hub.proc.pid
        # 1. the hall fills up: a ticket for every phone (and for the calls before the phones connect)
        tickets = [hub.issue("AR"[i % 2]) for i in range(n_pages + 2 * calls)]
        # 2. the hub's call latency over that same queue with no page connected
        bare_ms, called = [], set()
        rng = random.Random(14)
        for _ in range(calls):
            time.sleep(rng.uniform(0, 0.3))
            ms, ticket = _serve(hub)
            bare_ms.append(ms)
            called.add(ticket["number"])
        rss_before, rss_before_all = rss_mb(pid, with_children=False), rss_mb(pid)
        # 3. a page for every phone still waiting, connected in batches (the listen queue is finite)
        tickets = [t for t in tickets if t["number"] not in called][:n_pages]
        clients = Pages(hub.web_port)
        connect_began = time.perf_counter()
        for start in range(0, n_pages, 25):
            batch = range(start, min(n_pages, start + 25))
            for i in batch:
                clients.open(i, hub.url_path(tickets[i]))
            if not clients.wait_all(batch, 0, 60):
                raise TimeoutError("pages did not get their first state")
        connect_s = time.perf_counter() - connect_began
        time.sleep(1.0)                                   # settle: threads started, first states sent
        rss_with, rss_with_all = rss_mb(pid, with_children=False), rss_mb(pid)
        # 4. calls with every page following: Next → the call's seq at every live page
        page_ms: list[float] = []
        loaded_ms: list[float] = []
        missed = 0
        for _ in range(calls):
            seq = hub.seq()
            clients.wait_all(range(n_pages), seq, 30)         # every page is current (or ended)
            live = [p for p in range(n_pages) if p not in clients.final]
            # a counter's Next comes at any moment, not just after the web's last look: without
            # this pause every call would land right after a poll and wait a whole interval
            time.sleep(rng.uniform(0, 0.3))
            began = time.perf_counter()
            hub.counters[0].request("call_next", {"window": 1}, timeout=10)
            loaded_ms.append((time.perf_counter() - began) * 1000)
            got_all = clients.wait_all(live, seq + 1, 30)
            for p in live:
                at = clients.arrival(p, seq + 1)
                if at is None:
                    missed += 1
                else:
                    page_ms.append((at - began) * 1000)
            missed += 0 if got_all else 1
            hub.counters[0].request("start", {"window": 1}, timeout=10)
            hub.counters[0].request("finish", {"window": 1}, timeout=10)
        rss_after = rss_mb(pid, with_children=False)
        return {
            "pages": n_pages,
            "calls": calls,
            "call_to_page_ms": {"p50": percentile(page_ms, 0.5), "p99": percentile(page_ms, 0.99),
                                "max": percentile(page_ms, 1.0), "n": len(page_ms)},
            "all_pages_got_every_call": missed == 0 and clients.errors == 0,
            "pages_missed": missed,
            "stream_errors": clients.errors,
            "connect_s": round(connect_s, 2),
            "hub_call_ms": {"without_pages_p50": percentile(bare_ms, 0.5), "without_pages_p99": percentile(bare_ms, 0.99),
                            "with_pages_p50": percentile(loaded_ms, 0.5), "with_pages_p99": percentile(loaded_ms, 0.99)},
            "hub_rss_mb": rss_with_all,
            "web_rss_mb": rss_with,
            "hub_rss_before_mb": rss_before_all,
            "web_rss_before_mb": rss_before,
            "rss_growth_mb": round(rss_after - rss_before, 1),
            "note": "the web server runs in the hub process: web_rss_mb is that process alone, hub_rss_mb adds "
                    "its mosquitto child; rss_growth_mb = the process with the pages connected and called minus "
                    "before them; call_to_page_ms = Next sent → the state as of that call at every page still "
                    "waiting (one selector loop reads every stream); hub_call_ms = Next → reply at the counter, "
                    "over the same full hall without and then with the pages; each Next after a random pause "
                    "(0-0.3 s), as counters press at any moment",
        }
    finally:
        if clients is not None:
            clients.close()
        hub.stop()


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, ensure_ascii=False))
