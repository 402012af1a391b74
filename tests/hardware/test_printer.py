"""Ticket composition: the exact ESC/POS bytes, in every Cyrillic mode."""
from datetime import datetime

import pytest

from hardware.printer import PrinterError, PrinterSettings, PrinterState, TicketPrinter, compose_ticket
from hardware.printer_fake import FakePrinter
from hardware.printer_image import render_ticket_image
from hardware.printer_ticket import TicketLayout, ticket_lines, wrap

ESC_T_17 = b"\x1bt\x11"
ESC_T_59 = b"\x1bt\x3b"
FS_CANCEL_KANJI = b"\x1c."
GS_SIZE_4X = b"\x1d!\x33"
GS_V_0 = b"\x1dv0"


def layout(**changes) -> TicketLayout:
    values = dict(office_name="Центр обслуживания клиентов", number="А015",
                  topic_label="Консультация", issued_at=datetime(2025, 3, 12, 10, 42),
                  people_ahead=3, eta_min=11.2,
                  footer_lines=("Контактный центр: 8 800 000-00-00", "Сайт: example.ru"))
    values.update(changes)
    return TicketLayout(**values)


def test_printer_cp866_17_puts_cyrillic_after_esc_t_17():
    data = compose_ticket(layout(), PrinterSettings(cyrillic="cp866_17"))
    assert data.startswith(b"\x1b@")
    code_page_at = data.index(ESC_T_17)
    assert data.index("ТАЛОН".encode("cp866")) > code_page_at
    assert "Консультация".encode("cp866") in data
    assert "Перед Вами: 3 чел.".encode("cp866") in data
    assert "Ожидаемое время: ~12 мин".encode("cp866") in data
    assert "Выдан: 12.03.2025 10:42".encode("cp866") in data
    assert "Пожалуйста, ожидайте приглашения на табло.".encode("cp866") in data
    assert "Рады, что Вы к нам обратились!".encode("cp866") in data
    assert "Талон".encode("utf-8") not in data  # no UTF-8 leaked through


def test_printer_cp866_59_leaves_chinese_mode_first():
    data = compose_ticket(layout(), PrinterSettings(cyrillic="cp866_59", profile="POS-5890",
                                                    paper_width_px=384))
    assert data.index(FS_CANCEL_KANJI) < data.index(ESC_T_59) < data.index("ТАЛОН".encode("cp866"))
    assert ESC_T_17 not in data


def test_printer_number_line_is_four_times_larger():
    data = compose_ticket(layout(), PrinterSettings())
    number_at = data.index("А015\n".encode("cp866"))
    assert data.rindex(GS_SIZE_4X, 0, number_at) > data.rindex(b"\n", 0, number_at)
    # and the size goes back to normal before the topic line
    assert data.index(b"\x1b!\x00", number_at) < data.index("Консультация".encode("cp866"))


def test_printer_replaces_characters_missing_from_cp866_with_lookalikes():
    data = compose_ticket(layout(office_name="ООО «МЭК» — ЦОК"), PrinterSettings())
    assert '"МЭК" - ЦОК'.encode("cp866") in data
    assert b"?" not in data.split(b"\x1dV")[0]


@pytest.mark.parametrize("width", [384, 576])
def test_printer_image_mode_sends_a_raster_of_the_paper_width(width):
    data = compose_ticket(layout(), PrinterSettings(cyrillic="image", paper_width_px=width,
                                                    qr="none"))
    header_at = data.index(GS_V_0)
    width_bytes = int.from_bytes(data[header_at + 4:header_at + 6], "little")
    height = int.from_bytes(data[header_at + 6:header_at + 8], "little")
    assert width_bytes * 8 == width
    assert height > 200
    assert ESC_T_17 not in data and "ТАЛОН".encode("cp866") not in data


def test_printer_image_is_one_bit_and_exactly_paper_wide():
    image = render_ticket_image(layout(priority=True), 384)
    assert image.mode == "1" and image.width == 384
    assert image.getextrema() == (0, 255)  # there is ink


def test_printer_qr_native_when_the_profile_has_it():
    data = compose_ticket(layout(qr_text="https://example.ru"), PrinterSettings(profile="TM-T20II"))
    assert b"\x1d(k" in data and b"https://example.ru" in data


def test_printer_qr_as_image_on_a_printer_without_native_qr():
    data = compose_ticket(layout(qr_text="https://example.ru"),
                          PrinterSettings(profile="POS-5890", cyrillic="cp866_59", paper_width_px=384))
    assert b"\x1d(k" not in data and GS_V_0 in data


TICKET_URL = "http://talon.mek.example.ru:8080/t/q8mVx2Lr0-aZ7eKfN1sYtB4wHc9pUdJ3oGiE5lRkQ6A"


def _store_qr_data(text: str) -> bytes:
    """ESC/POS ``GS ( k`` function 180: store the QR code's data (what the printer encodes)."""
    payload = text.encode("utf-8")
    return b"\x1d(k" + (len(payload) + 3).to_bytes(2, "little") + b"\x31\x50\x30" + payload


def test_printer_native_qr_carries_the_tickets_page():
    data = compose_ticket(layout(qr_text=TICKET_URL, live_page=True), PrinterSettings(profile="TM-T20II"))
    assert _store_qr_data(TICKET_URL) in data
    # «Следите за очередью на телефоне» printed under the code, in the ticket's code page
    hint = "Следите за очередью на телефоне".encode("cp866")
    assert data.index(_store_qr_data(TICKET_URL)) < data.index(hint)
    assert data.index(ESC_T_17) < data.index(hint)


def _code_at_the_left(image: list[list[bool]]) -> tuple[list[list[bool]], list[list[bool]]]:
    """(the QR code, the rest) of a picture whose code stands at the left, the hint (no
    taller than the code, centred on it) beside it: the code is as wide as the ink is tall."""
    rows = [y for y, row in enumerate(image) if any(row)]
    left = min(x for x in range(len(image[0])) if any(row[x] for row in image))
    side = rows[-1] - rows[0] + 1
    return [row[:left + side] for row in image], [row[left + side:] for row in image]


@pytest.mark.parametrize("profile,cyrillic,width", [("POS-5890", "cp866_59", 384), ("POS-5890", "image", 384),
                                                   ("default", "image", 576), ("TM-T20II", "image", 384)])
def test_printer_image_qr_modules_are_the_tickets_page(profile, cyrillic, width):
    from qrcode.constants import ERROR_CORRECT_M

    from tests.kiosk.qr_reading import expected_modules, raster_images, read_modules

    data = compose_ticket(layout(qr_text=TICKET_URL, live_page=True),
                          PrinterSettings(profile=profile, cyrillic=cyrillic, paper_width_px=width,
                                          qr="auto" if profile == "TM-T20II" else "image"))
    assert b"\x1d(k" not in data       # a picture ticket's code is a picture too, even where it could be native
    images = raster_images(data)
    qr_image = images[1] if cyrillic == "image" else images[0]   # after the ticket's own picture
    code, beside = _code_at_the_left(qr_image)
    modules = expected_modules(TICKET_URL, ERROR_CORRECT_M)   # error correction M, as on the kiosk's screen
    assert read_modules(code) == modules
    assert read_modules(code) != expected_modules("mek.example.ru", ERROR_CORRECT_M)
    ink_rows = [y for y, row in enumerate(code) if any(row)]   # 3 dots a module on 58 mm, 4 on 80 mm
    assert ink_rows[-1] - ink_rows[0] + 1 == len(modules) * (3 if width == 384 else 4)
    if cyrillic == "image":      # the hint beside the code, in the same picture: two pictures in all
        assert len(images) == 2 and any(any(row) for row in beside)
    else:                        # a text ticket: the code alone, centred, the hint on a line under it
        assert not any(any(row) for row in beside)
        assert "Следите за очередью на телефоне".encode("cp866") in data.split(b"\x1dv0")[-1]


def test_printer_english_hint_under_the_qr():
    data = compose_ticket(layout(qr_text=TICKET_URL, live_page=True, lang="en", number="A015"),
                          PrinterSettings(profile="TM-T20II"))
    assert data.index(_store_qr_data(TICKET_URL)) < data.index(b"Follow the queue on your phone")


def test_printer_site_qr_has_no_phone_hint():
    # no page for this ticket (the office has no web): the code is the office site, no promise
    data = compose_ticket(layout(qr_text="example.ru"), PrinterSettings(profile="TM-T20II"))
    assert _store_qr_data("example.ru") in data
    assert "Следите".encode("cp866") not in data
    assert "Следите".encode("cp866") not in compose_ticket(
        layout(qr_text=TICKET_URL, live_page=True), PrinterSettings(qr="none"))


def test_printer_qr_none_prints_no_code():
    data = compose_ticket(layout(qr_text="https://example.ru"), PrinterSettings(qr="none"))
    assert b"\x1d(k" not in data and GS_V_0 not in data


def test_printer_cuts_only_when_the_profile_can():
    assert b"\x1dV" in compose_ticket(layout(), PrinterSettings(profile="TM-T20II"))
    assert b"\x1dV" not in compose_ticket(layout(), PrinterSettings(profile="POS-5890",
                                                                   cyrillic="cp866_59"))


def test_printer_priority_and_booking_lines():
    lines = [text for _, text in ticket_lines(layout(priority=True, booking_time="11:00"))]
    assert "Обслуживание вне очереди" in lines
    assert "Запись на 11:00" in lines          # a checked-in booking: its slot, office-local
    assert "Appointment at 11:00" in [text for _, text in ticket_lines(layout(booking_time="11:00", lang="en"))]
    assert not any("Запись" in text for _, text in ticket_lines(layout()))


def test_printer_english_ticket():
    data = compose_ticket(layout(lang="en", number="A015"), PrinterSettings())
    assert b"TICKET No." in data and b"People ahead of you: 3" in data


def test_printer_eta_never_shows_zero_minutes():
    lines = [text for _, text in ticket_lines(layout(eta_min=0.0))]
    assert "Ожидаемое время: ~1 мин" in lines


def test_printer_wrap_respects_the_column_count():
    for line in wrap("Консультация по договорам энергоснабжения и оплате", 16):
        assert len(line) <= 16


@pytest.mark.parametrize("bad", [dict(connection="bluetooth"), dict(cyrillic="utf8"),
                                 dict(qr="maybe"), dict(paper_width_px=500)])
def test_printer_settings_reject_unknown_values(bad):
    with pytest.raises(ValueError):
        PrinterSettings(**bad)


def test_printer_file_connection_writes_the_composed_bytes(tmp_path):
    target = tmp_path / "lp0"
    printer = TicketPrinter(PrinterSettings(connection="file", target=str(target)))
    assert printer.print_ticket(layout()) is PrinterState.UNKNOWN  # one-way: no status
    assert target.read_bytes() == printer.compose(layout())


def test_printer_file_connection_keeps_every_ticket_across_status_reads(tmp_path):
    target = tmp_path / "tickets.bin"
    printer = TicketPrinter(PrinterSettings(connection="file", target=str(target)))
    printer.print_ticket(layout())
    printer.status()
    printer.print_ticket(layout())
    assert target.read_bytes() == printer.compose(layout()) * 2


def test_printer_unreachable_network_printer_is_offline():
    import socket
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    printer = TicketPrinter(PrinterSettings(connection="network", target=f"127.0.0.1:{port}",
                                            timeout_s=2))
    with pytest.raises(PrinterError) as failure:
        printer.print_ticket(layout())
    assert failure.value.state is PrinterState.OFFLINE
    assert printer.status() is PrinterState.OFFLINE


def test_printer_fake_records_jobs_and_refuses_when_paper_is_out():
    printer = FakePrinter()
    printer.print_ticket(layout())
    assert ESC_T_17 in printer.jobs[-1]
    printer.state = PrinterState.PAPER_OUT
    with pytest.raises(PrinterError) as failure:
        printer.print_ticket(layout())
    assert failure.value.state is PrinterState.PAPER_OUT
    assert len(printer.jobs) == 1


# --- the ticket as printed: words whole, 80 mm ticket short, phone unbroken ------------------
PRINTER_DPI = 203  # 8 dots per mm, every ESC/POS thermal printer Talon supports
LONG_TOPIC = "Приём заявок (контрольно-инспекционное управление)"


def _raster_heights(data: bytes) -> list[int]:
    heights, at = [], data.find(GS_V_0)
    while at >= 0:
        heights.append(int.from_bytes(data[at + 6:at + 8], "little"))
        at = data.find(GS_V_0, at + 8)
    return heights


def _image_lines(lay, width):
    """The text lines the image renderer draws, in the font sizes it draws them."""
    from PIL import Image, ImageDraw

    from hardware.printer_image import _BODY_SIZE_AT_384, _BOLD, _SIZE_AT_384, _fit, text_scale
    from hardware.printer_ticket import NUMBER, RULE

    draw = ImageDraw.Draw(Image.new("L", (width, 10)))
    usable = width - 16
    out = []
    for style, text in ticket_lines(lay):
        if style in (RULE, NUMBER):
            continue
        size = int(_SIZE_AT_384.get(style, _BODY_SIZE_AT_384) * text_scale(width, lay.large_print))
        font, lines = _fit(draw, text, "DejaVuSans.ttf", size, style in _BOLD, usable, int(size * 0.7))
        assert all(draw.textlength(line, font=font) <= usable for line in lines), lines
        out.append((text, lines))
    return out


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("large_print", [False, True])
def test_printer_image_never_cuts_a_word(width, large_print):
    lay = layout(topic_label=LONG_TOPIC, large_print=large_print, assisted=True, priority=True,
                 footer_lines=("Контактный центр: 8\u00a0800\u00a0000-00-00",))
    for text, lines in _image_lines(lay, width):
        joined = " ".join(lines).replace("- ", "-")
        for word in text.split(" "):
            assert word in joined, (word, lines)  # every word whole, on the paper
    topic_lines = dict(_image_lines(lay, width))[LONG_TOPIC]
    assert any("(контрольно-" in line for line in topic_lines)
    phone_lines = dict(_image_lines(lay, width))["Контактный центр: 8\u00a0800\u00a0000-00-00"]
    assert any("8\u00a0800\u00a0000-00-00" in line for line in phone_lines)  # phone unbroken


LINE_SPACING_DOTS = 34   # ESC 2, the printers' default line spacing: 1/6 inch


class _Paper:
    """How far the paper moves while a ticket prints, up to the feed before the cut: raster
    pictures by their height, a native QR code by its modules, each line feed by the line
    spacing or the line's tallest character (font A 24 dots, B 17, times ``GS !`` height;
    ``ESC !`` 0x10 doubles it, and the last of ``ESC !`` / ``GS !`` sets the size, as on
    Epson). An ESC/POS command it does not know fails the test."""

    SKIP = {b"\x1b@": 2, b"\x1c.": 2, b"\x1bt": 3, b"\x1ba": 3, b"\x1bE": 3, b"\x1db": 3}
    CUT = (b"\x1bd", b"\x1dV")        # the feed to the cutter and the cut: not counted

    def __init__(self):
        from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

        self.levels = {0x30: ERROR_CORRECT_L, 0x31: ERROR_CORRECT_M, 0x32: ERROR_CORRECT_Q, 0x33: ERROR_CORRECT_H}
        self.dots = self.tallest = 0
        self.font_b, self.double, self.magnify = False, False, 1
        self.qr_module, self.qr_level, self.qr_data = 3, ERROR_CORRECT_L, b""

    def step(self, data: bytes, at: int) -> int | None:
        """Read the command at ``at``; its length, or None at the cut."""
        head = data[at:at + 2]
        if data[at] == 0x0A:
            self.dots += max(LINE_SPACING_DOTS, self.tallest)
            self.tallest = 0
            return 1
        if head in self.CUT:
            return None
        if head in self.SKIP:
            return self.SKIP[head]
        if head == b"\x1bM":
            self.font_b = data[at + 2] in (1, 0x31)
            return 3
        if head == b"\x1b!":
            self.font_b, self.double, self.magnify = bool(data[at + 2] & 0x01), bool(data[at + 2] & 0x10), 1
            return 3
        if head == b"\x1d!":
            self.magnify, self.double = (data[at + 2] & 0x0F) + 1, False
            return 3
        if data[at:at + 3] == b"\x1dv0":
            width_bytes = int.from_bytes(data[at + 4:at + 6], "little")
            height = int.from_bytes(data[at + 6:at + 8], "little")
            self.dots += height
            return 8 + width_bytes * height
        if data[at:at + 3] == b"\x1d(k":
            return self._qr(data, at)
        if data[at] < 0x20:
            raise AssertionError(f"unknown ESC/POS command at {at}: {data[at:at + 4]!r}")
        self.tallest = max(self.tallest, (17 if self.font_b else 24) * self.magnify * (2 if self.double else 1))
        return 1

    def _qr(self, data: bytes, at: int) -> int:
        from tests.kiosk.qr_reading import expected_modules

        length = int.from_bytes(data[at + 3:at + 5], "little")
        fn, arg = data[at + 6], data[at + 7:at + 5 + length]
        if fn == 0x43:
            self.qr_module = arg[0]
        elif fn == 0x45:
            self.qr_level = self.levels[arg[0]]
        elif fn == 0x50:
            self.qr_data = arg[1:]
        elif fn == 0x51:
            self.dots += len(expected_modules(self.qr_data.decode(), self.qr_level)) * self.qr_module
        return 5 + length


def printed_length_dots(data: bytes) -> int:
    """The ticket's length in dots as the printer feeds it (``_Paper``)."""
    paper, at = _Paper(), 0
    while at < len(data):
        step = paper.step(data, at)
        if step is None:
            break
        at += step
    return paper.dots


def test_printed_length_counts_lines_pictures_and_codes():
    assert printed_length_dots(b"\x1b@a\n\x1b!\x10b\n\n\x1b!\x00\x1d!\x33c\n\x1bd\x06\n\n") == 34 + 48 + 34 + 96
    qr = compose_ticket(layout(qr_text="example.ru"), PrinterSettings(profile="TM-T20II", paper_width_px=384))
    plain = compose_ticket(layout(), PrinterSettings(profile="TM-T20II", paper_width_px=384))
    assert printed_length_dots(qr) - printed_length_dots(plain) == 21 * 3    # version 1: 21 modules of 3 dots
    with pytest.raises(AssertionError, match="unknown ESC/POS"):
        printed_length_dots(b"\x1b*\x00")


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("page", [False, True], ids=["site", "ticket-page"])
@pytest.mark.parametrize("cyrillic,qr", [("image", "image"), ("image", "native"), ("cp866_17", "native"),
                                         ("cp866_17", "image")])
def test_printer_ticket_length_with_qr(width, page, cyrillic, qr):
    # A long topic and office name, the page's address with its 43-character token: under 10 cm
    # (without the blank paper fed to the cutter).
    codes = dict(qr_text=TICKET_URL, live_page=True) if page else dict(qr_text="mek.example.ru")
    lay = layout(topic_label=LONG_TOPIC, office_name="Офис-центр ООО «МЭК»", **codes,
                 footer_lines=("Контактный центр: 8\u00a0800\u00a0000-00-00", "Сайт: mek.example.ru"))
    data = compose_ticket(lay, PrinterSettings(profile="TM-T20II", cyrillic=cyrillic, paper_width_px=width, qr=qr))
    assert (b"\x1d(k" in data) is (qr == "native")
    assert printed_length_dots(data) / PRINTER_DPI * 25.4 <= 100


@pytest.mark.parametrize("width", [576, 384])
def test_printer_image_ticket_hint_beside_the_code(width):
    lay = layout(qr_text=TICKET_URL, live_page=True)
    data = compose_ticket(lay, PrinterSettings(cyrillic="image", paper_width_px=width, qr="image"))
    assert len(_raster_heights(data)) == 2                # the ticket, then its code with the hint beside


def test_printer_large_print_is_larger():
    small = render_ticket_image(layout(), 576)
    large = render_ticket_image(layout(large_print=True), 576)
    assert large.height > small.height * 1.2


def test_printer_assisted_ticket_says_staff_will_come():
    lines = ticket_lines(layout(priority=True, assisted=True))
    assert ("emphasis", "Сопровождение: сотрудник подойдёт к Вам") in lines
    assert "Сопровождение: сотрудник подойдёт к Вам".encode("cp866") in compose_ticket(
        layout(priority=True, assisted=True), PrinterSettings())


def test_printer_text_mode_breaks_after_a_hyphen_between_letters_only():
    assert wrap(LONG_TOPIC, 32) == ["Приём заявок (контрольно-", "инспекционное управление)"]
    assert wrap("Контрольно-инспекционное", 32) == ["Контрольно-инспекционное"]
    assert wrap("Телефон: 000-00-00", 12) == ["Телефон:", "000-00-00"]    # never inside a number
    assert wrap("Абвгдежзиклмн", 5) == ["Абвгд", "ежзик", "лмн"]            # too long: split all the same


def test_printer_text_mode_footer_wraps_at_font_b_width():
    data = compose_ticket(layout(footer_lines=("Контактный центр: 8\u00a0800\u00a0000-00-00",)),
                          PrinterSettings(paper_width_px=384))
    # 33 characters: one line of font B (42 on 58 mm paper), where font A (32) would need two
    assert _encode_cp866("Контактный центр: 8\u00a0800\u00a0000-00-00") + b"\n" in data


def _encode_cp866(text: str) -> bytes:
    from hardware.printer import _encode

    return _encode(text)


def test_printer_text_mode_keeps_the_phone_whole():
    assert wrap("Контактный центр: 8\u00a0800\u00a0000-00-00", 32) == [
        "Контактный центр:", "8\u00a0800\u00a0000-00-00"]
