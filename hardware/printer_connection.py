"""Transmit composed ticket bytes, and ask two-way printers for their DLE EOT status.

One connection per job: open, read the status, send, read the status again, close.
Network printers (port 9100) often accept a single client, so holding the socket
open between tickets would lock out a second kiosk or the technician's test print.
"""
from __future__ import annotations

import logging
import os
import subprocess
from typing import Protocol

from hardware.printer_status import DLE_EOT, is_status_byte

log = logging.getLogger(__name__)

CONNECTIONS = ("network", "usb", "serial", "file", "cups", "lp")
TWO_WAY = {"network", "usb", "serial"}


class Connection(Protocol):
    two_way: bool

    def send(self, data: bytes) -> None: ...

    def query(self, n: int) -> int | None: ...

    def close(self) -> None: ...


class EscposConnection:
    """Wrap an opened python-escpos printer object (Network, Usb, Serial, File, CupsPrinter)."""

    def __init__(self, device, *, two_way: bool, status_timeout_s: float = 1.0):
        self.device = device
        self.two_way = two_way
        self.status_timeout_s = status_timeout_s

    def send(self, data: bytes) -> None:
        self.device._raw(data)
        if hasattr(self.device, "flush"):
            self.device.flush()

    def query(self, n: int) -> int | None:
        """Send ``DLE EOT n`` and return the reply byte, or None when nothing valid came back."""
        if not self.two_way:
            return None
        self.device._raw(DLE_EOT + bytes([n]))
        try:
            with _short_socket_timeout(self.device, self.status_timeout_s):
                reply = bytes(self.device._read() or b"")
        except (OSError, TimeoutError) as exc:  # socket.timeout is a TimeoutError
            log.debug("no DLE EOT %s reply: %s", n, exc)
            return None
        # A late reply to an earlier query can arrive in the same read: the last one is ours.
        valid = [b for b in reply if is_status_byte(b)]
        return valid[-1] if valid else None

    def close(self) -> None:
        self.device.close()


class _short_socket_timeout:
    """Use a short timeout while waiting for a status byte, on sockets only."""

    def __init__(self, device, timeout: float):
        self.sock = getattr(device, "_device", None)
        self.timeout = timeout
        self.saved = None

    def __enter__(self):
        if hasattr(self.sock, "settimeout"):
            self.saved = self.sock.gettimeout()
            self.sock.settimeout(self.timeout)

    def __exit__(self, *exc):
        if hasattr(self.sock, "settimeout"):
            self.sock.settimeout(self.saved)


class FileConnection:
    """Append the bytes to a device node (``/dev/usb/lp0``) or a plain file (one-way).

    Appending, unlike python-escpos ``File`` (which truncates on open), keeps every
    ticket in a plain file even though each status read opens it again.
    """

    two_way = False

    def __init__(self, path: str):
        self.file = open(path, "ab")

    def send(self, data: bytes) -> None:
        self.file.write(data)
        self.file.flush()

    def query(self, n: int) -> int | None:
        return None

    def close(self) -> None:
        self.file.close()


class LpConnection:
    """``lp -d <printer> -o raw``: hands the bytes to CUPS unchanged (one-way)."""

    two_way = False

    def __init__(self, printer_name: str, timeout_s: float):
        self.printer_name = printer_name
        self.timeout_s = timeout_s

    def send(self, data: bytes) -> None:
        command = ["lp", "-o", "raw"] + (["-d", self.printer_name] if self.printer_name else [])
        subprocess.run(command, input=data, check=True, capture_output=True, timeout=self.timeout_s)

    def query(self, n: int) -> int | None:
        return None

    def close(self) -> None:
        pass


def escpos_printers():
    """Import ``escpos.printer`` lazily (it takes ~0.3 s and reads its capability database).

    python-escpos pickles that database into ``ESCPOS_CAPABILITIES_PICKLE_DIR`` and fails
    on import when the folder does not exist yet, so make it first.
    """
    cache_dir = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
    from escpos import printer

    return printer


def _host_port(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return target, 9100


def _usb_ids(target: str) -> tuple[int, int]:
    vendor, _, product = target.partition(":")
    return int(vendor, 16), int(product, 16)


def open_connection(settings) -> Connection:
    """Open the connection that ``settings.connection`` names (see :class:`PrinterSettings`).

    Raises ``OSError`` or a python-escpos error when the printer cannot be reached.
    """
    kind = settings.connection
    if kind == "lp":
        return LpConnection(settings.target, settings.timeout_s)
    if kind == "file":
        return FileConnection(settings.target)
    escpos_printer = escpos_printers()

    if kind == "network":
        host, port = _host_port(settings.target)
        device = escpos_printer.Network(host, port, timeout=settings.timeout_s, profile=settings.profile)
    elif kind == "usb":
        vendor, product = _usb_ids(settings.target)
        device = escpos_printer.Usb(vendor, product, timeout=int(settings.timeout_s * 1000),
                                    profile=settings.profile)
    elif kind == "serial":
        device = escpos_printer.Serial(settings.target, baudrate=settings.baudrate,
                                       timeout=settings.status_timeout_s, profile=settings.profile)
    elif kind == "cups":
        device = escpos_printer.CupsPrinter(settings.target or None, profile=settings.profile)
    else:
        raise ValueError(f"unknown printer connection {kind!r}; expected one of {CONNECTIONS}")
    device.open()
    return EscposConnection(device, two_way=kind in TWO_WAY, status_timeout_s=settings.status_timeout_s)
