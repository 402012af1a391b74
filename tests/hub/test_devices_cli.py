"""``talon devices`` and ``talon operators`` against a real database file."""
import io

from sqlalchemy import select

from storage.credentials import verify_secret
from storage.engine import make_engine, make_sessionmaker
from storage.models import DeviceRow, OperatorRow
from talon.cli import main


def test_devices_add_list_remove(tmp_path, capsys):
    base = ["devices", "--data", str(tmp_path)]
    assert main([*base, "add", "kiosk-1", "--role", "kiosk"]) == 0
    password = capsys.readouterr().out.split("only now:")[1].split()[0]
    with make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'talon.db'}"))() as s:
        row = s.execute(select(DeviceRow)).scalar_one()
    assert row.role == "kiosk" and password not in row.password_hash and verify_secret(password, row.password_hash)
    assert main([*base, "add", "kiosk-1", "--role", "kiosk"]) == 1           # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    assert main([*base, "add", "counter-1", "--role", "counter"]) == 1      # a counter needs its window
    assert "needs --window" in capsys.readouterr().err
    assert main([*base, "add", "bad/id", "--role", "kiosk"]) == 1
    assert main([*base, "list"]) == 0 and "kiosk-1" in capsys.readouterr().out
    assert main([*base, "remove", "kiosk-1"]) == 0
    assert main([*base, "remove", "kiosk-1"]) == 1


def test_operators_add_with_pin_from_stdin(tmp_path, capsys, monkeypatch):
    base = ["operators", "--data", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main([*base, "add", "ivanova", "--name", "Иванова Анна", "--pin-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main([*base, "add", "petrov", "--name", "Петров", "--pin-stdin"]) == 1      # PIN too short
    assert "4-12 digits" in capsys.readouterr().err
    with make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'talon.db'}"))() as s:
        (op,) = s.execute(select(OperatorRow)).scalars().all()
    assert op.name == "Иванова Анна" and verify_secret("2468", op.pin_hash) and not verify_secret("1111", op.pin_hash)
