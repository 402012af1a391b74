"""Reading an ESC/POS printer's health with DLE EOT (real-time status, ``10 04 n``).

The printer answers each query with one byte at once, even while it is printing:

* ``n=1`` printer status: bit 3 set = offline;
* ``n=2`` offline cause: bit 2 cover open, bit 5 stopped by paper end, bit 6 error;
* ``n=4`` roll paper sensor: bits 2-3 paper near end, bits 5-6 paper end.

Every status byte has bit 1 and bit 4 set and bits 0 and 7 clear (``0b0xx1xx10``);
anything else is not a status reply. The states match ``printer.state`` of the
device-status payload in docs/contract.md.
"""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = 1
QUERY_OFFLINE_CAUSE = 2
QUERY_PAPER = 4


class PrinterState(str, Enum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    ERROR = "error"
    UNKNOWN = "unknown"  # a one-way connection (file, CUPS, lp) or no answer

    @property
    def can_print(self) -> bool:
        """Whether a ticket may be sent; ``unknown`` is trusted (one-way printers)."""
        return self in (PrinterState.OK, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN)


def is_status_byte(value: int) -> bool:
    return value & 0b1001_0011 == 0b0001_0010


def state_from_replies(printer: int | None, offline_cause: int | None, paper: int | None) -> PrinterState:
    """Map the three DLE EOT reply bytes (``None`` = no valid answer) to one state."""
    if printer is None:
        return PrinterState.UNKNOWN
    if paper is not None and paper & 0x60:
        return PrinterState.PAPER_OUT
    if printer & 0x08:  # offline: the cause says why
        if offline_cause is None:
            return PrinterState.OFFLINE
        if offline_cause & 0x04:
            return PrinterState.COVER_OPEN
        if offline_cause & 0x20:
            return PrinterState.PAPER_OUT
        if offline_cause & 0x40:
            return PrinterState.ERROR
        return PrinterState.OFFLINE
    if paper is not None and paper & 0x0C:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.OK


def read_state(query: Callable[[int], int | None]) -> PrinterState:
    """Ask the three questions through ``query(n) -> reply byte or None`` and map them.

    The offline cause is asked only when the printer says it is offline.
    """
    printer = query(QUERY_PRINTER)
    if printer is None:
        return PrinterState.UNKNOWN
    offline_cause = query(QUERY_OFFLINE_CAUSE) if printer & 0x08 else None
    paper = query(QUERY_PAPER)
    return state_from_replies(printer, offline_cause, paper)
