"""``talon hub`` options checked by argparse: a bad value is a one-line usage error."""
import argparse

import pytest

from hub.cli import add_arguments


def _parser(monkeypatch, env: str | None) -> argparse.ArgumentParser:
    if env is None:
        monkeypatch.delenv("TALON_TELEGRAM_AHEAD", raising=False)
    else:
        monkeypatch.setenv("TALON_TELEGRAM_AHEAD", env)
    parser = argparse.ArgumentParser(prog="talon hub")
    add_arguments(parser)   # the env is read here, as when `talon hub` starts
    return parser


@pytest.mark.parametrize("env,argv,expected", [
    (None, [], 3), (" 5 ", [], 5), ("0", [], 0), (None, ["--telegram-ahead", "0"], 0),
    ("7", ["--telegram-ahead", "2"], 2), ("many", ["--telegram-ahead", "2"], 2)])
def test_telegram_ahead_from_the_option_or_the_env(monkeypatch, env, argv, expected):
    assert _parser(monkeypatch, env).parse_args(argv).telegram_ahead == expected


@pytest.mark.parametrize("env,argv,bad", [
    ("many", [], "'many'"), ("-1", [], "'-1'"), ("2.5", [], "'2.5'"), ("", [], "''"),
    (None, ["--telegram-ahead", "-3"], "'-3'"), (None, ["--telegram-ahead", "x"], "'x'")])
def test_a_bad_telegram_ahead_is_a_usage_error(monkeypatch, capsys, env, argv, bad):
    with pytest.raises(SystemExit) as exit_:
        _parser(monkeypatch, env).parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "talon hub: error: argument --telegram-ahead:" in err and "TALON_TELEGRAM_AHEAD" in err
    assert bad in err and "Traceback" not in err
