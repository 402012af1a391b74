"""What an office day looks like: who arrives when, for what, and how long they take.

Pure and seeded, so a simulated day can be replayed exactly; used by the simulator,
the demo's simulated kiosks and counters, and the benchmarks.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from queue_core.config import OfficeConfig

# Relative arrivals per hour of the day (a morning peak and an after-lunch peak).
HOURLY_PROFILE = {9: 1.3, 10: 1.4, 11: 1.2, 12: 0.8, 13: 0.9, 14: 1.1, 15: 1.0, 16: 0.8, 17: 0.5}
OPEN, LAST_ARRIVAL = time(9, 0), time(17, 30)
# Share of visitors per profile and service form (residential consultation dominates).
FORM_MIX = {
    "mek": {"oprsn": 0.40, "admin": 0.20, "kiu_requests": 0.12, "osir_reports": 0.10, "contracts": 0.10,
            "oprsn_head": 0.08},
    "oek": {"contracts": 0.5, "billing_docs": 0.35, "dispatch": 0.15},
    "atom": {"consult": 0.5, "cash": 0.35, "consult_cash": 0.15},
}
DEFAULT_SERVICE_MIN = 10.0


@dataclass(frozen=True, slots=True)
class Arrival:
    at: datetime
    topic: str
    kind: str                 # walk_in / priority / booking
    service_min: float        # how long serving this visitor will take
    no_show: bool             # the visitor left before being called
    slot_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    load: float = 0.85               # target utilisation of the open windows
    priority_share: float = 0.03
    booking_share: float = 0.05
    no_show_share: float = 0.03
    service_spread: float = 0.45     # lognormal sigma of service times


def topic_mix(config: OfficeConfig) -> dict[str, float]:
    mix = FORM_MIX.get(config.profile.code, {})
    weights = {t.code: mix.get(t.form or "", 1.0 / len(config.topics)) for t in config.topics}
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def mean_service(config: OfficeConfig, topic: str) -> float:
    """Visitors take, on average, 85 % of the service norm (an office that mostly meets it)."""
    norm = config.topic(topic).service_norm_min
    return 0.85 * norm if norm else DEFAULT_SERVICE_MIN


def load_for_utilisation(utilisation: float, break_min: float = 0.0) -> float:
    """The ``Workload.load`` that keeps the windows busy ``utilisation`` of their open time
    over the whole day. ``Workload.load`` is the utilisation at profile 1.0, while
    HOURLY_PROFILE averages a little above 1 over the arrival hours and each window is
    away ``break_min`` (its lunch); the busiest hour runs at ``max(HOURLY_PROFILE)`` times
    the load."""
    start, end = OPEN.hour * 60 + OPEN.minute, LAST_ARRIVAL.hour * 60 + LAST_ARRIVAL.minute
    minutes = end - start
    profile = sum(HOURLY_PROFILE.get(m // 60, 0.0) for m in range(start, end)) / minutes
    return utilisation * (minutes - break_min) / (minutes * profile)


def arrivals_for_day(config: OfficeConfig, day: datetime, windows: int, w: Workload,
                     rng: random.Random) -> list[Arrival]:
    """A day's visitors as a Poisson process shaped by HOURLY_PROFILE."""
    mix = topic_mix(config)
    work_per_visitor = sum(p * mean_service(config, t) for t, p in mix.items())
    base_rate = w.load * windows / work_per_visitor            # visitors per minute at profile 1.0
    topics, probs = list(mix), list(mix.values())
    sigma = w.service_spread
    out: list[Arrival] = []
    t = day.replace(hour=OPEN.hour, minute=OPEN.minute, second=0, microsecond=0)
    end = day.replace(hour=LAST_ARRIVAL.hour, minute=LAST_ARRIVAL.minute, second=0, microsecond=0)
    peak = max(HOURLY_PROFILE.values())
    while True:
        # thinning: draw at the peak rate, keep with probability profile/peak
        t += timedelta(minutes=rng.expovariate(base_rate * peak))
        if t >= end:
            return out
        if rng.random() > HOURLY_PROFILE.get(t.hour, 0) / peak:
            continue
        topic = rng.choices(topics, probs)[0]
        mean = mean_service(config, topic)
        service = rng.lognormvariate(math.log(mean) - sigma ** 2 / 2, sigma)
        r = rng.random()
        kind = "priority" if r < w.priority_share else "booking" if r < w.priority_share + w.booking_share else "walk_in"
        slot = None
        if kind == "booking":
            slot = t + timedelta(minutes=rng.uniform(0, 12))    # visitors come a little early
        out.append(Arrival(at=t, topic=topic, kind=kind, service_min=round(service, 3),
                           no_show=rng.random() < w.no_show_share, slot_start=slot))
