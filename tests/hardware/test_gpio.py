"""The generic GPIO helpers (the counter's panels are tested in tests/counter_app/test_gpio_panel.py)."""
from __future__ import annotations

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from hardware.gpio import PinMapError, bcm, check_distinct, load_toml, optional_bcm, set_output


def test_bcm_pins_are_checked():
    assert bcm("5", "next") == 5 and optional_bcm("none", "buzzer") is None and optional_bcm(None, "x") is None
    with pytest.raises(PinMapError, match="next: BCM 40 is outside 0..27"):
        bcm(40, "next")
    with pytest.raises(PinMapError, match="not a BCM pin number"):
        bcm("five", "next")


def test_a_pin_used_twice_is_named():
    check_distinct([("next", 5), ("recall", None), ("buzzer", None), ("close", 21)])
    with pytest.raises(PinMapError, match="BCM 5 is used by both next and close"):
        check_distinct([("next", 5), ("close", 5)])


def test_outputs_and_toml(tmp_path):
    factory = MockFactory()
    led = LED(17, pin_factory=factory)
    set_output(led, True)
    assert led.is_lit
    set_output(None, True)          # not fitted: nothing to do
    led.close()
    set_output(led, False)          # closed: ignored
    path = tmp_path / "pins.toml"
    path.write_text("[pins]\nnext = 4\n", encoding="utf-8")
    assert load_toml(path) == {"pins": {"next": 4}}
    factory.reset()
