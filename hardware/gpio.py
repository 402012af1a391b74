"""Generic GPIO helpers over gpiozero: BCM pin numbers, pin maps, outputs.

What a panel *does* lives beside its app (the counter's buttons and LEDs:
``counter_app/gpio_panel.py``); this module only knows pins. Every gpiozero device
takes ``pin_factory=None`` (gpiozero's seam: ``MockFactory()`` in tests, ``None`` on a Pi).
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path


class PinMapError(ValueError):
    """A pin map names an unknown key, a pin twice, or a bad value."""


def bcm(value, name: str) -> int:
    """A BCM pin number 0..27 (``name`` is for the error message)."""
    try:
        pin = int(value)
    except (TypeError, ValueError):
        raise PinMapError(f"{name}: {value!r} is not a BCM pin number") from None
    if not 0 <= pin <= 27:
        raise PinMapError(f"{name}: BCM {pin} is outside 0..27")
    return pin


def optional_bcm(value, name: str) -> int | None:
    """``None``, ``""`` or ``"none"`` (not fitted), else :func:`bcm`."""
    return None if value in (None, "", "none") else bcm(value, name)


def check_distinct(pins: Iterable[tuple[str, int | None]]) -> None:
    """No BCM pin used twice (``(name, pin)`` pairs; ``None`` is not fitted)."""
    used: dict[int, str] = {}
    for name, pin in pins:
        if pin is None:
            continue
        if pin in used:
            raise PinMapError(f"BCM {pin} is used by both {used[pin]} and {name}")
        used[pin] = name


def load_toml(path: str | Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def set_output(device, on: bool) -> None:
    """Switch an LED/buzzer-like output, if fitted and not closed."""
    if device is not None and not device.closed:
        device.value = bool(on)
