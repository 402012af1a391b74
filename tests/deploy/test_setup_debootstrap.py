"""A REAL `talon setup` of every role inside a fresh Debian root made with debootstrap.

apt-get, useradd and usermod run through chroot; pip installs the dependencies from the
package index. Skips (with the reason) when debootstrap or the Debian mirror named in
this machine's apt sources is unavailable. About 1.5-2 minutes.
"""
import glob
import os
import re
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.deploy.conftest import needs_root, snapshot_source, talon

pytestmark = [needs_root, pytest.mark.debootstrap, pytest.mark.timeout(900)]

ROLES = [
    ["hub", "--device", "hub-1"],
    ["kiosk", "--device", "kiosk-1", "--password", "k-pass"],
    ["counter", "--device", "counter-2", "--password", "c-pass", "--window", "2"],
    ["board", "--device", "board-1", "--password", "b-pass"],
]


def debian_mirror() -> tuple[str, str] | None:
    """(mirror URL, suite) of the main Debian archive in this machine's apt sources."""
    text = ""
    for f in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")),
              *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]:
        try:
            text += Path(f).read_text() + "\n"
        except OSError:
            continue
    for m in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.MULTILINE):  # one-line format
        if m.group(1).rstrip("/").endswith("/debian") and "/" not in m.group(2):
            return m.group(1), m.group(2)
    for block in re.split(r"\n\s*\n", text):  # deb822 format
        uris = re.search(r"^URIs:\s*(.+)$", block, re.MULTILINE)
        suites = re.search(r"^Suites:\s*(.+)$", block, re.MULTILINE)
        if uris and suites:
            uri = uris.group(1).split()[0]
            if uri.rstrip("/").endswith("/debian"):
                return uri, suites.group(1).split()[0]
    return None


def _ca_bundle() -> Path | None:
    """The CA bundle this machine's pip trusts (may include a site proxy's CA)."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), ssl.get_default_verify_paths().cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def debian_root():
    if not shutil.which("debootstrap"):
        subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=False, capture_output=True)
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed and `apt-get install -y debootstrap` failed")
    mirror = debian_mirror()
    if mirror is None:
        pytest.skip("no Debian mirror found in /etc/apt/sources.list(.d)")
    work = Path(tempfile.mkdtemp(prefix="talon-debootstrap-"))
    root = work / "root"
    try:
        proc = subprocess.run(["debootstrap", "--variant=minbase", mirror[1], str(root), mirror[0]],
                              check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"debootstrap {mirror[1]} from {mirror[0]} failed: {(proc.stdout + proc.stderr)[-500:]}")
        # The chroot's pip must trust what this machine's pip trusts (a site proxy's CA, say);
        # the copy lives in the root's /tmp, so the root's own CA package cannot overwrite it.
        env = {"PIP_CACHE_DIR": "/tmp/pip-cache", "PIP_FIND_LINKS": "", "PIP_NO_INPUT": "1"}
        ca = _ca_bundle()
        if ca:
            shutil.copy(ca, root / "tmp/host-ca.crt")
            env.update(PIP_CERT="/tmp/host-ca.crt", SSL_CERT_FILE="/tmp/host-ca.crt", REQUESTS_CA_BUNDLE="/tmp/host-ca.crt")
        source = snapshot_source(work / "talon")
        common = ["--office", "mek", "--root", str(root), "--source", str(source)]
        first = [talon("setup", *args, *common, env=env).stdout for args in ROLES]
        second = [talon("setup", *args, *common, env=env).stdout for args in ROLES]
        yield root, first, second
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _chroot(root, *cmd):
    return subprocess.run(["chroot", str(root), *cmd], check=False, capture_output=True, text=True)


def test_debootstrap_second_run_changes_nothing(debian_root):
    _, first, second = debian_root
    assert "done     apt:" in first[0] and "done     user:" in first[0]
    for out in second:
        assert "nothing to do" in out, out


def test_debootstrap_packages_installed(debian_root):
    root, _, _ = debian_root
    proc = _chroot(root, "dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", "mosquitto", "sqlite3",
                   "libusb-1.0-0", "espeak-ng", "sox", "libgl1-mesa-dri", "python3-venv")
    assert proc.returncode == 0, proc.stderr
    assert all(line.split()[1] == "ii" for line in proc.stdout.splitlines()), proc.stdout
    assert not (root / "usr/sbin/policy-rc.d").exists()  # only there while apt ran


def test_debootstrap_user_and_groups(debian_root):
    root, _, _ = debian_root
    passwd = _chroot(root, "getent", "passwd", "talon").stdout.strip().split(":")
    assert passwd[5:] == ["/var/lib/talon", "/usr/sbin/nologin"]
    assert int(passwd[2]) < 1000  # a system user
    groups = _chroot(root, "id", "-nG", "talon").stdout.split()
    assert {"talon", "video", "audio", "lp", "dialout"} <= set(groups)
    assert "gpio" not in groups  # no such group on plain Debian: skipped, not created
    st = (root / "var/lib/talon").stat()
    assert (st.st_uid, st.st_mode & 0o777) == (int(passwd[2]), 0o750)
    env = root / "etc/talon/kiosk.env"
    assert env.stat().st_gid == int(passwd[3])


def test_debootstrap_units_enabled(debian_root):
    root, _, _ = debian_root
    wants = root / "etc/systemd/system/multi-user.target.wants"
    for unit in ("talon-hub.service", "talon-kiosk.service", "talon-counter@2.service", "talon-board.service"):
        assert (wants / unit).is_symlink(), unit
    assert (root / "etc/systemd/system/timers.target.wants/talon-backup.timer").is_symlink()


def test_debootstrap_venv_runs_talon(debian_root):
    root, _, _ = debian_root
    proc = _chroot(root, "/opt/talon/venv/bin/talon", "setup", "--help")
    assert proc.returncode == 0, proc.stderr
    proc = _chroot(root, "/opt/talon/venv/bin/python", "-c",
                  "import importlib.util as u, sqlalchemy, paho.mqtt, host.watchdog; assert u.find_spec('kivy')")
    assert proc.returncode == 0, proc.stderr
    # The backup command works inside the target against a real WAL database.
    db_setup = ("import sqlite3; c = sqlite3.connect('/var/lib/talon/talon.db'); c.execute('PRAGMA journal_mode=WAL');"
                "c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)'); c.commit()")
    assert _chroot(root, "/opt/talon/venv/bin/python", "-c", db_setup).returncode == 0
    proc = _chroot(root, "env", "TALON_DATA_DIR=/var/lib/talon", "/opt/talon/venv/bin/talon", "backup")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("/var/lib/talon/backups/talon-")
