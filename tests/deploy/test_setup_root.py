"""`talon setup ROLE --root DIR --skip-system`: the files, venv and enabled units it makes,
and a second run that changes nothing. (apt and useradd are covered by the debootstrap test.)"""
import json
import os
import shutil
import subprocess

import pytest

from tests.deploy.conftest import (
    REPO,
    has_systemctl,
    needs_root,
    snapshot_source,
    talon,
)

pytestmark = needs_root

# All four roles on one box (the default office), applied one after the other.
ROLES = [
    ["hub", "--device", "hub-1"],
    ["kiosk", "--device", "kiosk-1", "--password", "k-pass"],
    ["counter", "--device", "counter-2", "--password", "c pass \"quoted\"", "--window", "2"],
    ["board", "--device", "board-1", "--password", "b-pass"],
]


SOURCE = {}


def _setup(root, role_args):
    # --no-deps: the dependencies' own installs are not what is tested here (nor the network).
    return talon("setup", *role_args, "--office", "mek", "--root", str(root), "--skip-system",
                 "--source", str(SOURCE["path"]), "--pip-arg=--no-deps")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    SOURCE["path"] = snapshot_source(tmp_path_factory.mktemp("src") / "talon")
    root = tmp_path_factory.mktemp("pi-root")
    (root / "etc").mkdir()
    # A talon user/group already in the target's files: owners must come from these, not from this host.
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\ntalon:x:4242:4343::/var/lib/talon:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\ntalon:x:4343:\nvideo:x:44:\n")
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text("console=tty1 root=PARTUUID=1234-02 rootwait quiet\n")
    first = [_setup(root, args).stdout for args in ROLES]
    second = [_setup(root, args).stdout for args in ROLES]
    yield root, first, second
    shutil.rmtree(root)
    shutil.rmtree(SOURCE["path"])


def test_setup_root_first_run_changes_and_second_changes_nothing(root):
    _, first, second = root
    assert "step(s) changed the system" in first[0]
    for out in second:
        assert "nothing to do" in out, out
        assert " done " not in out
    assert "skipped  apt:" in first[0] and "skipped  user:" in first[0]


def test_setup_root_env_files(root):
    r, _, _ = root
    hub = (r / "etc/talon/hub.env").read_text()
    assert "TALON_OFFICE=mek\n" in hub and "TALON_DATABASE_URL=sqlite:////var/lib/talon/talon.db\n" in hub
    counter = (r / "etc/talon/counter.env")
    assert 'TALON_DEVICE_PASSWORD="c pass \\"quoted\\""\n' in counter.read_text()
    st = counter.stat()
    assert oct(st.st_mode & 0o777) == "0o640" and (st.st_uid, st.st_gid) == (0, 4343)
    data = (r / "var/lib/talon").stat()
    assert (data.st_uid, data.st_gid, data.st_mode & 0o777) == (4242, 4343, 0o750)


def test_setup_root_password_kept_on_rerun_without_it(root):
    r, _, _ = root
    out = talon("setup", "kiosk", "--device", "kiosk-1", "--office", "mek", "--root", str(r), "--skip-system",
                "--source", str(SOURCE["path"]), "--pip-arg=--no-deps").stdout
    assert "nothing to do" in out
    assert "TALON_DEVICE_PASSWORD=k-pass" in (r / "etc/talon/kiosk.env").read_text()


def test_setup_root_units_installed_and_enabled(root):
    r, _, _ = root
    system = r / "etc/systemd/system"
    for unit in ("talon-hub.service", "talon-kiosk.service", "talon-counter@.service", "talon-board.service",
                 "talon-board@.service", "talon-backup.service", "talon-backup.timer"):
        assert (system / unit).read_text() == (REPO / "deploy/systemd" / unit).read_text()
    wants = system / "multi-user.target.wants"
    assert sorted(os.listdir(wants)) == ["talon-board.service", "talon-counter@2.service",
                                         "talon-hub.service", "talon-kiosk.service"]
    assert os.readlink(wants / "talon-counter@2.service") == "/etc/systemd/system/talon-counter@.service"
    assert os.readlink(system / "timers.target.wants/talon-backup.timer") == "/etc/systemd/system/talon-backup.timer"
    if has_systemctl:
        for unit in ("talon-hub.service", "talon-counter@2.service", "talon-backup.timer"):
            proc = subprocess.run(["systemctl", f"--root={r}", "is-enabled", unit], check=False, capture_output=True, text=True)
            assert proc.stdout.strip() == "enabled", (unit, proc.stdout, proc.stderr)


def test_setup_root_venv_has_talon(root):
    r, _, _ = root
    venv = r / "opt/talon/venv"
    assert (venv / "bin/talon").is_file()
    stamp = json.loads((venv / "talon-install.json").read_text())
    assert stamp["extras"] == ["ui"]
    proc = subprocess.run([str(venv / "bin/python"), "-c", "import host.watchdog, deploy.setup_plan"],
                          check=False, capture_output=True, text=True, cwd=r)
    assert proc.returncode == 0, proc.stderr


def test_setup_root_kernel_cmdline_gets_consoleblank_once(root):
    r, _, _ = root
    assert (r / "boot/firmware/cmdline.txt").read_text() == \
        "console=tty1 root=PARTUUID=1234-02 rootwait quiet consoleblank=0\n"


def test_setup_root_repairs_a_changed_file(root):
    r, _, _ = root
    unit = r / "etc/systemd/system/talon-hub.service"
    unit.write_text(unit.read_text() + "# local edit\n")
    out = _setup(r, ROLES[0]).stdout
    assert "done     file: /etc/systemd/system/talon-hub.service" in out
    assert "1 step(s) changed" in out
