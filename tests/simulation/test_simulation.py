import json
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from queue_core.config import office_from_profile
from simulation.report import build_report
from simulation.simulator import simulate
from simulation.workload import Workload, arrivals_for_day, topic_mix
from storage.models import EventRow, TicketRow
from storage.queue_db import QueueDatabase
from talon.cli import main

DAY = date(2026, 11, 23)


def test_workload_is_seeded_and_follows_the_load():
    cfg = office_from_profile("mek", windows=4)
    midnight = datetime(2026, 11, 23, tzinfo=ZoneInfo(cfg.timezone))
    a = arrivals_for_day(cfg, midnight, 4, Workload(load=0.5), random.Random(7))
    b = arrivals_for_day(cfg, midnight, 4, Workload(load=0.5), random.Random(7))
    heavy = arrivals_for_day(cfg, midnight, 4, Workload(load=1.0), random.Random(7))
    assert a == b
    assert 1.6 < len(heavy) / len(a) < 2.5
    assert all(x.at < y.at for x, y in zip(a, a[1:]))
    assert abs(sum(topic_mix(cfg).values()) - 1) < 1e-9


def test_a_simulated_day_accounts_for_every_ticket(tmp_path):
    cfg = office_from_profile("mek", windows=4)
    db = QueueDatabase(f"sqlite:///{tmp_path / 's.db'}", cfg)
    result = simulate(db, 1, DAY, Workload(load=0.8), seed=3)
    with db.sessions() as s:
        states = dict(s.execute(select(TicketRow.state, func.count()).group_by(TicketRow.state)).all())
        seqs = s.execute(select(EventRow.seq).order_by(EventRow.seq)).scalars().all()
    assert sum(states.values()) == result.tickets > 50
    assert set(states) <= {"done", "no_show"}          # the day ends with everyone served or gone
    assert seqs == list(range(1, len(seqs) + 1))


def test_report_shape(tmp_path):
    cfg = office_from_profile("oek", windows=3)
    db = QueueDatabase(f"sqlite:///{tmp_path / 's.db'}", cfg)
    simulate(db, 1, DAY, Workload(load=0.7), seed=1)
    start = datetime(2026, 11, 23, tzinfo=ZoneInfo(cfg.timezone))
    r = build_report(db, start, start + timedelta(days=2), cfg.policy, 0.7)
    assert 0 <= r["within_wait_norm_share"] <= 1 and r["eta_mae_min"] >= 0
    codes = {t["code"]: t for t in r["topics"]}
    assert codes["A"]["norm_wait_min"] is None                # ОЭК dispatching: no wait norm
    assert codes["B"]["norm_wait_min"] == 10


def test_cli_json(capsys):
    assert main(["simulate", "--profile", "atom", "--windows", "3", "--load", "0.6", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["tickets"] > 0 and r["profile"] == "atom"
    assert {"code", "mean_wait_min", "p90_wait_min", "norm_wait_min", "within_wait_norm_share"} <= set(r["topics"][0])


def test_cli_refuses_absurd_load(capsys):
    import pytest
    with pytest.raises(SystemExit, match="--load"):
        main(["simulate", "--load", "5"])
