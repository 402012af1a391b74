"""The ticket printer: compose the ESC/POS bytes first, transmit them second.

Example (a 58 mm POS-5890 printer on USB that wants ``ESC t 59``)::

    settings = PrinterSettings(connection="usb", target="0416:5011", profile="POS-5890",
                               cyrillic="cp866_59", paper_width_px=384)
    printer = TicketPrinter(settings)
    state = printer.print_ticket(TicketLayout(office_name="ЦОК", number="А015",
                                              topic_label="Консультация",
                                              issued_at=datetime.now()))

Wiring hint: a network printer listens on TCP 9100 (``connection="network"``,
``target="192.168.1.50"``); USB printers need pyusb and apt ``libusb-1.0-0`` and a udev
rule giving the kiosk user access; serial printers need pyserial.

Cyrillic: ``cp866_17`` sends ``ESC t 17`` (Epson and most 80 mm printers),
``cp866_59`` sends ``FS .`` (leave Chinese double-byte mode) and ``ESC t 59``
(POS-5890 and other cheap 58 mm printers), ``image`` prints the whole ticket as a
raster picture (works on every printer, ~10 KB per ticket).
"""
from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass

from hardware.printer_connection import CONNECTIONS, Connection, escpos_printers, open_connection
from hardware.printer_status import PrinterState, read_state
from hardware.printer_ticket import CAPTION, EMPHASIS, NUMBER, RULE, SMALL, TITLE, TOPIC, TicketLayout, qr_caption, ticket_lines, wrap

__all__ = ["PrinterSettings", "TicketLayout", "TicketPrinter", "PrinterError", "PrinterState",
           "compose_ticket"]

log = logging.getLogger(__name__)

ESC, FS = b"\x1b", b"\x1c"
CANCEL_KANJI = FS + b"."
CYRILLIC_MODES = {"cp866_17": 17, "cp866_59": 59, "image": None}
QR_MODES = ("auto", "native", "image", "none")
# ESC/POS has no « » — or … in CP866: print their ASCII look-alikes instead of «?».
_CP866_LOOKALIKES = str.maketrans({"«": '"', "»": '"', "„": '"', "“": '"', "”": '"', "—": "-",
                                   "–": "-", "…": "...", "‘": "'", "’": "'", "\u00a0": " "})


class PrinterError(Exception):
    """A ticket could not be printed (or maybe only partly); ``state`` says why."""

    def __init__(self, state: PrinterState, detail: str = ""):
        super().__init__(f"{state.value}: {detail}" if detail else state.value)
        self.state = state
        self.detail = detail


@dataclass(frozen=True)
class PrinterSettings:
    """How to reach the printer and how to speak to it.

    ``target`` is, by connection: network ``host[:port]``; usb ``vendor:product`` in hex;
    serial the device path; file the device or file path; cups/lp the queue name.
    """

    connection: str = "file"
    target: str = ""
    profile: str = "default"
    cyrillic: str = "cp866_17"
    paper_width_px: int = 576
    qr: str = "auto"
    cut: bool = True
    font: str = "DejaVuSans.ttf"
    timeout_s: float = 5.0
    status_timeout_s: float = 1.0
    baudrate: int = 9600

    def __post_init__(self):
        if self.connection not in CONNECTIONS:
            raise ValueError(f"printer connection must be one of {CONNECTIONS}, not {self.connection!r}")
        if self.cyrillic not in CYRILLIC_MODES:
            raise ValueError(f"cyrillic mode must be one of {tuple(CYRILLIC_MODES)}, not {self.cyrillic!r}")
        if self.qr not in QR_MODES:
            raise ValueError(f"qr mode must be one of {QR_MODES}, not {self.qr!r}")
        if self.paper_width_px not in (384, 576):
            raise ValueError("paper width must be 384 (58 mm) or 576 (80 mm) pixels")

    @property
    def columns(self) -> int:
        """Characters per line in font A (12 dots wide)."""
        return self.paper_width_px // 12

    @property
    def columns_small(self) -> int:
        """Characters per line in font B (9 dots wide), the footer's."""
        return self.paper_width_px // 9


def _encode(text: str) -> bytes:
    return text.translate(_CP866_LOOKALIKES).encode("cp866", errors="replace")


def _compose_text(p, layout: TicketLayout, settings: PrinterSettings) -> None:
    code_page = CYRILLIC_MODES[settings.cyrillic]
    if code_page == 59:
        p._raw(CANCEL_KANJI)
    p._raw(ESC + b"t" + bytes([code_page]))
    p.set(align="center")
    for style, text in ticket_lines(layout):
        if style == RULE:
            p.set(normal_textsize=True, bold=False)
            p._raw(b"-" * settings.columns + b"\n")
            continue
        if style == NUMBER:
            # GS ! 0x33: four times as wide and tall; the number is what people look for.
            p.set(custom_size=True, width=4, height=4, bold=True, smooth=True)
            p._raw(_encode(text) + b"\n")
            p.set(normal_textsize=True, bold=False, smooth=False)
            continue
        double_height = style in (TITLE, TOPIC)
        p.set(normal_textsize=True, double_height=double_height,
              bold=style in (TITLE, TOPIC, CAPTION, EMPHASIS), font="b" if style == SMALL else "a")
        for line in wrap(text, settings.columns_small if style == SMALL else settings.columns):
            p._raw(_encode(line) + b"\n")
    p.set(normal_textsize=True, bold=False, font="a")


def _compose_image(p, layout: TicketLayout, settings: PrinterSettings) -> None:
    from hardware.printer_image import render_ticket_image

    _print_image(p, render_ticket_image(layout, settings.paper_width_px, settings.font))


def _print_image(p, image) -> None:
    # python-escpos print()s a notice to stdout for profiles of unknown width; keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(image, impl="bitImageRaster")


def _compose_caption(p, caption: str, layout: TicketLayout, settings: PrinterSettings) -> None:
    """The hint under the QR code, in the ticket's own way of printing Cyrillic."""
    if settings.cyrillic == "image":
        from hardware.printer_image import render_caption_image

        _print_image(p, render_caption_image(caption, settings.paper_width_px, settings.font, layout.large_print))
        return
    p.set(normal_textsize=True, bold=True, font="a")
    for line in wrap(caption, settings.columns):
        p._raw(_encode(line) + b"\n")
    p.set(normal_textsize=True, bold=False, font="a")


def qr_module_dots(paper_width_px: int) -> int:
    """Dots per QR module: 0.375 mm on 58 mm paper, 0.5 mm on 80 mm (203 dpi), what a phone
    camera reads at arm's length, and small enough for a ticket under 10 cm."""
    return 3 if paper_width_px <= 384 else 4


def _compose_qr(p, layout: TicketLayout, settings: PrinterSettings) -> None:
    """The QR code and, when it opens the ticket's page, the hint: beside the code when the
    ticket is a picture anyway, else on a line under it."""
    from escpos.constants import QR_ECLEVEL_M

    caption = qr_caption(layout)
    module = qr_module_dots(settings.paper_width_px)
    if _qr_native(p, settings):
        p.set(align="center")
        p.qr(layout.qr_text, ec=QR_ECLEVEL_M, size=module, native=True)
    else:
        from hardware.printer_image import render_qr_image

        beside = caption if settings.cyrillic == "image" else None   # text mode may have no fonts
        image = render_qr_image(layout.qr_text, settings.paper_width_px, module, beside, settings.font,
                                layout.large_print)
        _print_image(p, image)
        if beside:
            return
    if caption:
        _compose_caption(p, caption, layout, settings)


def _qr_native(p, settings: PrinterSettings) -> bool:
    """``auto``: the printer draws the code when it can, except on a ticket printed as a
    picture, whose code is a picture too, with the hint beside it (a shorter ticket)."""
    if settings.qr == "auto":
        return settings.cyrillic != "image" and bool(p.profile.supports("qrCode"))
    return settings.qr == "native"


def compose_ticket(layout: TicketLayout, settings: PrinterSettings) -> bytes:
    """Return the exact bytes of one ticket, rendered into a python-escpos ``Dummy``."""
    p = escpos_printers().Dummy(profile=settings.profile)
    p.hw("INIT")
    if settings.cyrillic == "image":
        _compose_image(p, layout, settings)
    else:
        _compose_text(p, layout, settings)
    if layout.qr_text and settings.qr != "none":
        _compose_qr(p, layout, settings)
    if settings.cut and (p.profile.supports("paperPartCut") or p.profile.supports("paperFullCut")):
        p.cut(mode="PART" if p.profile.supports("paperPartCut") else "FULL")
    else:
        p._raw(b"\n" * 6)  # feed past the tear bar
    return p.output


class TicketPrinter:
    """Compose and print tickets, checking the printer's health before and after each job."""

    def __init__(self, settings: PrinterSettings, *, connect=open_connection):
        self.settings = settings
        self._connect = connect
        self.last_state = PrinterState.UNKNOWN

    def compose(self, layout: TicketLayout) -> bytes:
        return compose_ticket(layout, self.settings)

    def _open(self) -> Connection:
        try:
            return self._connect(self.settings)
        except Exception as exc:  # escpos raises its own errors besides OSError
            self.last_state = PrinterState.OFFLINE
            raise PrinterError(PrinterState.OFFLINE, f"cannot open the printer: {exc}") from exc

    def _read_state(self, connection: Connection) -> PrinterState:
        state = read_state(connection.query) if connection.two_way else PrinterState.UNKNOWN
        self.last_state = state
        return state

    def status(self) -> PrinterState:
        """Read the printer's state now (``offline`` when it cannot even be opened)."""
        try:
            connection = self._open()
        except PrinterError as exc:
            return exc.state
        try:
            return self._read_state(connection)
        except OSError as exc:
            log.warning("printer status read failed: %s", exc)
            self.last_state = PrinterState.OFFLINE
            return self.last_state
        finally:
            connection.close()

    def print_ticket(self, layout: TicketLayout) -> PrinterState:
        """Print one ticket and return the printer's state after it.

        Raises :class:`PrinterError` when the printer is not ready (nothing was sent) or
        reports a fault right after the job (the ticket may be incomplete).
        """
        data = self.compose(layout)
        connection = self._open()
        try:
            before = self._read_state(connection)
            if not before.can_print:
                raise PrinterError(before, "not ready; nothing was sent")
            connection.send(data)
            after = self._read_state(connection)
        except OSError as exc:
            self.last_state = PrinterState.OFFLINE
            raise PrinterError(PrinterState.OFFLINE, f"connection lost: {exc}") from exc
        finally:
            connection.close()
        if not after.can_print:
            raise PrinterError(after, "fault after the job; the ticket may be incomplete")
        log.info("printed ticket %s (%d bytes), printer %s", layout.number, len(data), after.value)
        return after
