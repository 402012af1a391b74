"""``talon report KIND``: periods, defaults, and every KIND printing the page's figures."""
import json
from datetime import date

import pytest

from talon.cli import main
from talon.report_cli import page_args

TODAY = date(2026, 1, 5)


@pytest.mark.parametrize("kind, month, year, half, expected", [
    ("monthly", None, None, None, {"month": "2025-12"}),
    ("monthly", "2025-07", None, None, {"month": "2025-07"}),
    ("disclosure", None, None, None, {"year": "2025"}),
    ("csat", None, None, None, {"year": "2025", "half": "2"}),
    ("csat", None, None, "2025-H1", {"year": "2025", "half": "1"}),
    ("downtime", None, None, None, {"period": "month", "date": "2025-12-01"}),
    ("downtime", None, "2025", None, {"period": "year", "date": "2025-01-01"}),
    ("downtime", None, None, "2025-H2", {"period": "half", "date": "2025-07-01"}),
])
def test_periods_and_their_defaults(kind, month, year, half, expected):
    assert page_args(kind, month, year, half, TODAY) == expected


@pytest.mark.parametrize("kind, month, year, half", [
    ("monthly", None, "2025", None), ("csat", "2025-01", None, None), ("monthly", "2025-13", None, None),
    ("disclosure", None, "25", None), ("csat", None, None, "2025-H3")])
def test_a_wrong_period_is_refused_with_a_message(kind, month, year, half):
    with pytest.raises(SystemExit, match="--"):
        page_args(kind, month, year, half, TODAY)


@pytest.mark.parametrize("kind", ["monthly", "disclosure", "csat", "downtime"])
def test_every_kind_prints_a_table_csv_and_json(kind, tmp_path, capsys):
    base = ["report", kind, "--data", str(tmp_path), "--profile", "oek"]
    assert main(base) == 0
    assert capsys.readouterr().out.strip()
    assert main(base + ["--csv"]) == 0
    assert capsys.readouterr().out.startswith("\ufeff")                 # the page's CSV export (BOM for Excel)
    assert main(base + ["--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    if kind == "monthly":
        assert printed["visits"]["total_norm_max_min"] == 30.0 and printed["topics"] == []
    else:
        assert printed["report"] == kind and printed["tables"]
