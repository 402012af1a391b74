import base64
import hashlib

import pytest

from hub.mosquitto_files import (
    Device,
    acl_text,
    devices_from,
    hash_password,
    mosquitto_conf,
    password_file_text,
)


def test_hash_is_mosquitto_pbkdf2_sha512():
    h = hash_password("secret", salt=b"0123456789ab")
    _, kind, iterations, salt, digest = h.split("$")
    assert (kind, iterations) == ("7", "101")
    expected = hashlib.pbkdf2_hmac("sha512", b"secret", base64.b64decode(salt), 101, 64)
    assert base64.b64decode(digest) == expected


def test_password_file_keeps_given_hashes():
    pre = hash_password("x")
    text = password_file_text(devices_from([("a", "kiosk", pre), ("b", "board", "plain")]))
    lines = text.splitlines()
    assert lines[0] == f"a:{pre}" and lines[1].startswith("b:$7$101$")


@pytest.mark.parametrize("bad", [("a/b", "kiosk", "p"), ("a", "wizard", "p"), ("a", "kiosk", ""),
                                 ("a", "kiosk", "p:q")])
def test_bad_devices_are_refused(bad):
    with pytest.raises(ValueError):
        devices_from([bad])


@pytest.mark.parametrize("device", ["hub", "Hub", "HUB", "anonymous"])
def test_a_device_cannot_take_a_reserved_id(device):
    with pytest.raises(ValueError, match="reserved"):
        devices_from([("hub", "hub", "p"), (device, "kiosk", "p")])
    assert devices_from([("hub", "hub", "p")])     # the hub's own user, with the hub's role, is fine


def test_acl_per_role():
    acl = acl_text("mek", [Device("hub", "hub", "p"), Device("k1", "kiosk", "p"), Device("b1", "board", "p"),
                           Device("c1", "counter", "p")])
    blocks = {b.splitlines()[1]: b.splitlines()[2:] for b in acl.split("\n\n") if "\nuser " in "\n" + b}
    assert blocks["user hub"] == ["topic readwrite talon/mek/#"]
    assert blocks["user k1"] == ["topic write talon/mek/cmd/k1", "topic write talon/mek/device/k1/status",
                                 "topic read talon/mek/reply/k1", "topic read talon/mek/state/#"]
    # a board sends only ping (any role may), so it too has its own cmd/reply pair
    assert blocks["user b1"] == ["topic write talon/mek/cmd/b1", "topic write talon/mek/device/b1/status",
                                 "topic read talon/mek/reply/b1", "topic read talon/mek/state/#",
                                 "topic read talon/mek/event/#"]
    assert "topic read talon/mek/event/#" in blocks["user c1"]


def test_conf_has_the_settings_that_matter(tmp_path):
    conf = mosquitto_conf("127.0.0.1", 1883, tmp_path, allow_anonymous=False,
                          password_file=tmp_path / "passwd", acl_file=tmp_path / "acl")
    for line in ["listener 1883 127.0.0.1", "set_tcp_nodelay true", "max_queued_messages 10000",
                 "allow_anonymous false", f"password_file {tmp_path / 'passwd'}"]:
        assert line in conf.splitlines()


def test_the_deploy_acl_example_is_what_the_generator_writes():
    """deploy/mosquitto/acl.example shows one block per role: each is acl_text's, word for word."""
    from pathlib import Path

    example = (Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl.example").read_text()
    shown = {}
    for block in example.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if lines and lines[0].startswith("user "):
            shown[lines[0][5:]] = lines[1:]
    roles = {"hub": "hub", "kiosk-1": "kiosk", "counter-3": "counter", "rating-3": "rating", "admin-1": "admin",
             "board-hall": "board"}
    generated = acl_text("mek", [Device(d, r, "p") for d, r in roles.items()])
    for block in generated.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if lines:
            assert shown[lines[0][5:]] == lines[1:], lines[0]
    assert set(shown) == set(roles)
