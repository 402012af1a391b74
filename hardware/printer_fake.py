"""A ticket printer for tests and demos: real composed bytes, settable health.

    printer = FakePrinter()
    printer.state = PrinterState.PAPER_OUT     # the next job is refused, nothing printed
    printer.fail_next = PrinterState.ERROR     # the next job fails after sending
    printer.jobs[-1]                           # the exact ESC/POS bytes of the last ticket
"""
from __future__ import annotations

from hardware.printer import PrinterError, PrinterSettings, compose_ticket
from hardware.printer_status import PrinterState
from hardware.printer_ticket import TicketLayout


class FakePrinter:
    def __init__(self, settings: PrinterSettings | None = None, state: PrinterState = PrinterState.OK):
        self.settings = settings or PrinterSettings()
        self.state = state
        self.fail_next: PrinterState | None = None
        self.jobs: list[bytes] = []
        self.layouts: list[TicketLayout] = []
        self.status_reads = 0

    @property
    def last_state(self) -> PrinterState:
        return self.state

    def compose(self, layout: TicketLayout) -> bytes:
        return compose_ticket(layout, self.settings)

    def status(self) -> PrinterState:
        self.status_reads += 1
        return self.state

    def print_ticket(self, layout: TicketLayout) -> PrinterState:
        if not self.state.can_print:
            raise PrinterError(self.state, "not ready; nothing was sent")
        data = self.compose(layout)
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            self.state = failure
            raise PrinterError(failure, "fault after the job")
        self.jobs.append(data)
        self.layouts.append(layout)
        return self.state
