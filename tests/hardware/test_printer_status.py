"""Printer health: DLE EOT replies mapped to states, and a real TCP round trip."""
import socket
import threading
from datetime import datetime

import pytest

from hardware.printer import PrinterError, PrinterSettings, PrinterState, TicketPrinter
from hardware.printer_status import is_status_byte, read_state, state_from_replies
from hardware.printer_ticket import TicketLayout

ONLINE, OFFLINE = 0x12, 0x1A
NO_CAUSE, COVER_OPEN, PAPER_STOP, ERROR = 0x12, 0x16, 0x32, 0x52
PAPER_OK, PAPER_NEAR_END, PAPER_END = 0x12, 0x1E, 0x72


@pytest.mark.parametrize("printer, cause, paper, expected", [
    (ONLINE, None, PAPER_OK, PrinterState.OK),
    (ONLINE, None, PAPER_NEAR_END, PrinterState.PAPER_NEAR_END),
    (ONLINE, None, PAPER_END, PrinterState.PAPER_OUT),
    (OFFLINE, COVER_OPEN, PAPER_OK, PrinterState.COVER_OPEN),
    (OFFLINE, PAPER_STOP, PAPER_OK, PrinterState.PAPER_OUT),
    (OFFLINE, ERROR, PAPER_OK, PrinterState.ERROR),
    (OFFLINE, NO_CAUSE, PAPER_OK, PrinterState.OFFLINE),
    (OFFLINE, None, None, PrinterState.OFFLINE),
    (None, None, None, PrinterState.UNKNOWN),
])
def test_printer_status_maps_dle_eot_replies(printer, cause, paper, expected):
    assert state_from_replies(printer, cause, paper) is expected


def test_printer_status_asks_offline_cause_only_when_offline():
    asked = []
    replies = {1: ONLINE, 2: COVER_OPEN, 4: PAPER_OK}
    assert read_state(lambda n: asked.append(n) or replies[n]) is PrinterState.OK
    assert asked == [1, 4]


@pytest.mark.parametrize("value, valid", [(0x12, True), (0x72, True), (0x00, False), (0x93, False)])
def test_printer_status_byte_shape(value, valid):
    assert is_status_byte(value) is valid


def test_printer_states_that_stop_printing():
    assert PrinterState.OK.can_print and PrinterState.PAPER_NEAR_END.can_print
    assert PrinterState.UNKNOWN.can_print  # one-way printers: trust and print
    for state in (PrinterState.PAPER_OUT, PrinterState.COVER_OPEN, PrinterState.OFFLINE,
                  PrinterState.ERROR):
        assert not state.can_print


class LoopbackPrinter:
    """A port-9100 ESC/POS printer on a random loopback port.

    It keeps every byte it receives and answers ``DLE EOT n`` at once; the paper
    sensor answer for each new connection is taken from ``paper_by_connection``.
    """

    def __init__(self, paper_by_connection):
        self.paper_by_connection = list(paper_by_connection)
        self.received: list[bytes] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            paper = self.paper_by_connection.pop(0) if self.paper_by_connection else PAPER_OK
            with conn:
                data = b""
                answered = 0
                while chunk := conn.recv(65536):
                    data += chunk
                    while (at := data.find(b"\x10\x04", answered)) != -1 and at + 2 < len(data):
                        n = data[at + 2]
                        conn.sendall(bytes([{1: ONLINE, 2: NO_CAUSE, 4: paper}[n]]))
                        answered = at + 3
                self.received.append(data)

    def close(self):
        self.server.close()


@pytest.fixture
def loopback_printer():
    printer = LoopbackPrinter([PAPER_END, PAPER_OK, PAPER_OK])
    yield printer
    printer.close()


def test_printer_network_round_trip_paper_out_then_ok(loopback_printer):
    settings = PrinterSettings(connection="network", target=f"127.0.0.1:{loopback_printer.port}",
                               timeout_s=5, status_timeout_s=5)
    printer = TicketPrinter(settings)
    ticket = TicketLayout(office_name="ЦОК", number="К007", topic_label="Оплата",
                          issued_at=datetime(2025, 3, 12, 9, 5), people_ahead=0)

    with pytest.raises(PrinterError) as refused:
        printer.print_ticket(ticket)
    assert refused.value.state is PrinterState.PAPER_OUT

    assert printer.print_ticket(ticket) is PrinterState.OK
    assert printer.status() is PrinterState.OK
    printer_queries = b"\x10\x04\x01\x10\x04\x04"
    loopback_printer.close()
    first, second = loopback_printer.received[:2]
    assert first == printer_queries  # only the status questions: no ticket sent
    assert second == printer_queries + printer.compose(ticket) + printer_queries
    assert "К007".encode("cp866") in second
