"""What each Talon role needs on a Raspberry Pi OS Bookworm / Debian 12 machine."""
from __future__ import annotations

from dataclasses import dataclass

COMMON_PACKAGES = ("python3-venv", "ca-certificates")
"""Every role: a venv for /opt/talon/venv and the CA bundle pip needs."""

GUI_PACKAGES = ("libmtdev1", "libegl1", "libgl1-mesa-dri", "fonts-dejavu-core")
"""Kivy on SDL2 KMS/DRM: multitouch, EGL + Mesa's vc4/v3d driver, DejaVu (has ✓, ₽, Cyrillic)."""


@dataclass(frozen=True)
class Role:
    """One role's needs.

    ``unit`` is installed and enabled as is; ``template`` is installed and enabled
    once per ``--window`` (``talon-counter@3.service``). Groups are added only where
    they exist on the target (``gpio`` exists on Raspberry Pi OS, not on Debian).
    """

    name: str
    description: str
    packages: tuple[str, ...]
    optional_packages: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    unit: str | None = None
    template: str | None = None
    extra_units: tuple[str, ...] = ()
    enable_extra: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    needs_window: bool = False
    needs_password: bool = True
    display: bool = False
    default_broker: str = "mqtt://talon-hub.local:1883"


ROLES: dict[str, Role] = {
    "hub": Role(
        name="hub",
        description="dispatcher, MQTT broker and web dashboard; keeps the database",
        packages=("mosquitto", "mosquitto-clients", "sqlite3"),
        unit="talon-hub.service",
        extra_units=("talon-backup.service", "talon-backup.timer"),
        enable_extra=("talon-backup.timer",),
        needs_password=False,
        default_broker="mqtt://127.0.0.1:1883",
    ),
    "kiosk": Role(
        name="kiosk",
        description="visitors' touchscreen with a thermal ticket printer",
        packages=("libusb-1.0-0", *GUI_PACKAGES),
        optional_packages=("cups-client",),
        groups=("lp", "dialout", "video", "render", "input", "gpio"),
        unit="talon-kiosk.service",
        extras=("ui",),
        display=True,
    ),
    "counter": Role(
        name="counter",
        description="operator's terminal for one window: touchscreen and/or GPIO buttons",
        packages=GUI_PACKAGES,
        groups=("gpio", "video", "render", "input", "audio"),
        template="talon-counter@.service",
        extras=("ui",),
        needs_window=True,
        display=True,
    ),
    "board": Role(
        name="board",
        description="hall board with sound, or a per-window display (--window N)",
        packages=("espeak-ng", "sox", "alsa-utils", *GUI_PACKAGES),
        groups=("audio", "video", "render", "input", "gpio"),
        unit="talon-board.service",
        template="talon-board@.service",
        extras=("ui",),
        display=True,
    ),
}
