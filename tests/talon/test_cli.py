from pathlib import Path

from talon.cli import main

EXAMPLE = Path(__file__).parents[2] / "docs" / "office.example.toml"


def test_config_check_ok(capsys):
    assert main(["config", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "window 3: D, O" in out


def test_config_check_names_the_key(tmp_path, capsys):
    bad = tmp_path / "office.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace('topics = ["D", "O"]', 'topics = ["D", "Z"]'),
                   encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 1
    assert "windows[2].topics[1]: unknown topic 'Z'" in capsys.readouterr().out


def test_config_check_missing_file(tmp_path, capsys):
    assert main(["config", "check", str(tmp_path / "nope.toml")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_help_lists_commands(capsys):
    assert main([]) == 2
    assert "simulate" in capsys.readouterr().out
