"""`talon setup hub --hq URL`: the office's link to head office — the `[hq]` file the hub reads
(``TALON_HQ_CONFIG``), the password file (0600, never shown) and the option checks."""
import io
import os
import tomllib

import pytest

from deploy.setup_plan import HQ_CONFIG, HQ_PASSWORD, SetupOptions, apply, build_plan
from deploy.steps import Context, Plan, WriteFile
from hub.hq_link import hq_from_file, hq_password
from queue_core.config import HqLink
from talon import cli
from tests.deploy.conftest import needs_root
from tests.deploy.test_setup_dry_run import COMMON, GOLDEN, UPDATE

HQ = ["--hq", "mqtts://hq.example:8883", "--hq-password", "hq-s3cret", "--hq-cafile", "/etc/talon/hq-ca.pem"]


def test_setup_hub_hq_dry_run_matches_golden(capsys):
    assert cli.main(["setup", "hub", "--device", "hub-1", *COMMON, *HQ]) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / "setup-hub-hq.txt"
    if UPDATE:
        golden.write_text(out)
    assert out == golden.read_text()
    assert "hq-s3cret" not in out                       # the password is never shown
    assert "TALON_HQ_CONFIG=/etc/talon/hq.toml" in out and "[hq]" in out


def test_setup_hub_hq_password_from_env(monkeypatch, capsys):
    monkeypatch.setenv("TALON_HQ_PASSWORD", "from-env")
    assert cli.main(["setup", "hub", "--device", "hub-1", *COMMON, "--hq", "mqtt://10.1.1.1:1883"]) == 0
    out = capsys.readouterr().out
    assert "/var/lib/talon/hq.password (0600 talon:talon)" in out and "from-env" not in out


@pytest.mark.parametrize("extra, message", [
    (["--hq", "http://hq.example"], "--hq must look like"),
    (["--hq", "mqtts://hq.example:8883/x", "--hq-password", "p"], "--hq must look like"),
    (["--hq", "mqtts://hq.example:8883"], "needs the office's password"),
    (["--hq", "mqtts://hq.example:8883", "--hq-password", "two words"], "needs the office's password"),
    (["--hq", "mqtts://hq.example:8883", "--hq-password", "p", "--hq-user", "a b"], "--hq-user"),
    (["--hq", "mqtts://hq.example:8883", "--hq-password", "p", "--hq-cafile", "ca.pem"], "--hq-cafile"),
])
def test_setup_hub_rejects_bad_hq_options(extra, message, capsys):
    assert cli.main(["setup", "hub", "--device", "hub-1", *COMMON, *extra]) == 2
    assert message in capsys.readouterr().err


def test_hq_is_for_the_hub_only(capsys):
    assert cli.main(["setup", "kiosk", "--device", "k1", "--password", "p", *COMMON, *HQ]) == 2
    assert "--hq is for the hub" in capsys.readouterr().err


def hq_steps(**hq) -> Plan:
    opts = SetupOptions(role="hub", office="mek", device="hub-1", source=None, **hq)
    return Plan("hub", [s for s in build_plan(opts).steps if isinstance(s, WriteFile) and "hq" in s.target])


@needs_root
def test_applied_the_hub_reads_the_link_and_the_password(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\ntalon:x:4242:4343::/var/lib/talon:/bin/false\n")
    (tmp_path / "etc/group").write_text("root:x:0:\ntalon:x:4343:\n")
    plan = hq_steps(hq="mqtts://hq.example:8883", hq_password="hq-s3cret", hq_user="office-7",
                    hq_cafile="/etc/talon/hq-ca.pem")
    ctx, out = Context(root=tmp_path, skip_system=True), io.StringIO()
    assert apply(plan, ctx, out) == 0 and "2 step(s) changed" in out.getvalue()
    config, password = ctx.path(HQ_CONFIG), ctx.path(HQ_PASSWORD)
    assert hq_from_file(config, "mek") == HqLink("mqtts://hq.example:8883", "office-7", "/etc/talon/hq-ca.pem")
    assert "hq-s3cret" not in config.read_text() and tomllib.loads(config.read_text())["hq"]["user"] == "office-7"
    st = password.stat()
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, 4242, 4343)
    assert hq_password(password.parent) == "hq-s3cret"
    again = io.StringIO()
    assert apply(plan, ctx, again) == 0 and "nothing to do" in again.getvalue()
    os.chmod(password, 0o644)                            # a loosened secret is put right
    fixed = io.StringIO()
    assert apply(plan, ctx, fixed) == 0 and "1 step(s) changed" in fixed.getvalue()
    assert password.stat().st_mode & 0o777 == 0o600


def test_without_hq_nothing_of_it_is_planned():
    assert hq_steps().steps == []
    opts = SetupOptions(role="hub", office="mek", device="hub-1", source=None)
    assert not any("HQ" in line for s in build_plan(opts).steps for line in s.details())


def test_a_rerun_keeps_the_link_and_off_removes_it(tmp_path, capsys):
    (tmp_path / "etc/talon").mkdir(parents=True)
    (tmp_path / "var/lib/talon").mkdir(parents=True)
    (tmp_path / "etc/talon/hq.toml").write_text('[hq]\nurl = "mqtts://hq.example:8883"\nuser = "office-7"\n')
    (tmp_path / "var/lib/talon/hq.password").write_text("kept-secret\n")
    base = ["setup", "hub", "--device", "hub-1", *COMMON, "--root", str(tmp_path)]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert 'url = "mqtts://hq.example:8883"' in out and 'user = "office-7"' in out
    assert "TALON_HQ_CONFIG=/etc/talon/hq.toml" in out and "kept-secret" not in out
    assert cli.main([*base, "--hq", "off"]) == 0
    out = capsys.readouterr().out
    assert "TALON_HQ_CONFIG" not in out and "hq.toml" not in out
