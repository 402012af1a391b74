import io

from talon.cli import main


def test_users_add_list_remove(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert main(["users", "--database", url, "add", "alice", "--role", "admin", "--password-stdin"]) == 0
    assert "added alice (admin)" in capsys.readouterr().out
    assert main(["users", "--database", url, "list"]) == 0
    assert "alice\tadmin" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert main(["users", "--database", url, "add", "alice", "--role", "head", "--password-stdin"]) == 1
    assert "already exists" in capsys.readouterr().out
    assert main(["users", "--database", url, "remove", "alice"]) == 0
    assert main(["users", "--database", url, "remove", "alice"]) == 1
    capsys.readouterr()
    assert main(["users", "--database", url, "list"]) == 0
    assert "alice" not in capsys.readouterr().out


def test_users_add_refuses_short_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "--database", f"sqlite:///{tmp_path / 'u.db'}", "add", "bob", "--role", "head",
                 "--password-stdin"]) == 1
    assert "at least 8" in capsys.readouterr().out


def test_users_add_prompts_twice(tmp_path, monkeypatch, capsys):
    answers = iter(["secret-one-1", "secret-two-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "--database", f"sqlite:///{tmp_path / 'u.db'}", "add", "bob", "--role", "head"]) == 1
    assert "не совпадают" in capsys.readouterr().out
