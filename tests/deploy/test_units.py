"""The systemd units: `systemd-analyze verify` accepts each one, and they keep the promises."""
import re
import shutil
import subprocess

import pytest

from deploy.setup_plan import UNIT_SOURCE

UNITS = sorted(p.name for p in UNIT_SOURCE.iterdir() if p.suffix in (".service", ".timer"))
SERVICES = [u for u in UNITS if u.endswith(".service") and u != "talon-backup.service"]


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found:
        return found
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "systemd"], check=False, capture_output=True)
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.skip("systemd-analyze is missing and `apt-get install -y systemd` could not provide it")
    return found


def _settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def test_units_all_roles_present():
    assert {"talon-hub.service", "talon-kiosk.service", "talon-counter@.service", "talon-board.service",
            "talon-board@.service", "talon-backup.service", "talon-backup.timer"} <= set(UNITS)


@pytest.mark.parametrize("unit", UNITS)
def test_units_systemd_analyze_verify(unit, tmp_path):
    analyze = _systemd_analyze()
    # verify insists that ExecStart exists: point it at a stand-in executable.
    fake = tmp_path / "talon"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    for name in UNITS:  # the timer's service must be beside it
        text = (UNIT_SOURCE / name).read_text().replace("/opt/talon/venv/bin/talon", str(fake))
        (tmp_path / name).write_text(text)
    proc = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / unit)], check=False, capture_output=True, text=True)
    stem = unit.split("@")[0].split(".")[0]
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if stem in line or str(tmp_path) in line]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ours == [], "\n".join(ours)


@pytest.mark.parametrize("unit", SERVICES)
def test_units_services_are_watched_and_hardened(unit):
    s = _settings((UNIT_SOURCE / unit).read_text())
    assert s["Type"] == ["notify"]
    assert s["WatchdogSec"] == ["30"]
    assert s["Restart"] == ["on-failure"]
    assert s["User"] == ["talon"]
    assert "network-online.target" in " ".join(s["After"]) and "network-online.target" in " ".join(s["Wants"])
    assert any(v.startswith("/etc/talon/") for v in s["EnvironmentFile"])
    for key, value in {"ProtectSystem": "strict", "ReadWritePaths": "/var/lib/talon", "PrivateTmp": "yes",
                       "NoNewPrivileges": "yes", "ProtectHome": "yes", "StandardOutput": "journal"}.items():
        assert s[key] == [value], key
    assert s["ExecStart"][0].startswith("/opt/talon/venv/bin/talon ")


@pytest.mark.parametrize("unit", [u for u in SERVICES if u != "talon-hub.service"])
def test_units_screens_use_kmsdrm_without_cursor(unit):
    s = _settings((UNIT_SOURCE / unit).read_text())
    env = set(s["Environment"])
    assert {"SDL_VIDEODRIVER=kmsdrm", "KIVY_WINDOW=sdl2", "KCFG_GRAPHICS_SHOW_CURSOR=0"} <= env
    assert "PrivateDevices" not in s  # needs /dev/dri, /dev/input, /dev/snd, /dev/usb/lp*
    assert "video" in s["SupplementaryGroups"][0]


def test_units_templates_take_the_window_number():
    for unit in ("talon-counter@.service", "talon-board@.service"):
        assert _settings((UNIT_SOURCE / unit).read_text())["ExecStart"][0].endswith("--window %i")
