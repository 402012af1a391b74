"""Small builders shared by the queue_core tests."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from queue_core.config import parse_office_config

TZ = "Asia/Yekaterinburg"
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(TZ))


def office_dict(windows=3, policy="fifo", **queue):
    return {
        "office": {"id": "test", "name": "Тестовый офис", "timezone": TZ, "profile": "mek"},
        "topics": [
            {"code": "A", "form": "admin"},                 # wait 10, service 5
            {"code": "R", "form": "oprsn"},                 # wait 15, service 10
            {"code": "C", "form": "osir_reports"},          # no wait norm
        ],
        "windows": [{"number": n, "topics": ["A", "R", "C"]} for n in range(1, windows + 1)],
        "calendar": {"hours": {d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        "queue": {"policy": policy, **queue},
    }


def make_config(**kw):
    return parse_office_config(office_dict(**kw))


def minutes(n):
    return timedelta(minutes=n)
