import json

from talon.cli import main


def test_bench_runs_a_named_benchmark_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "counter", "--quick", "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["next_press_to_request"]["n"] > 0
    assert json.loads(out.read_text())["counter"]["bench_seconds"] >= 0


def test_bench_refuses_an_unknown_name(capsys):
    assert main(["bench", "nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().out
