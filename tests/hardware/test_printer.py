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


@pytest.mark.parametrize("profile,cyrillic,width", [("POS-5890", "cp866_59", 384), ("POS-5890", "image", 384),
                                                   ("default", "image", 576)])
def test_printer_image_qr_modules_are_the_tickets_page(profile, cyrillic, width):
    from qrcode.constants import ERROR_CORRECT_L

    from tests.kiosk.qr_reading import expected_modules, raster_images, read_modules

    data = compose_ticket(layout(qr_text=TICKET_URL, live_page=True),
                          PrinterSettings(profile=profile, cyrillic=cyrillic, paper_width_px=width, qr="image"))
    assert b"\x1d(k" not in data
    images = raster_images(data)
    qr_image = images[1] if cyrillic == "image" else images[0]   # after the ticket's own picture
    # python-escpos draws the code with qrcode at error correction L (its default)
    assert read_modules(qr_image) == expected_modules(TICKET_URL, ERROR_CORRECT_L)
    assert read_modules(qr_image) != expected_modules("mek.example.ru", ERROR_CORRECT_L)
    if cyrillic == "image":      # the hint under the code is a picture too: three pictures in all
        assert len(images) == 3
    else:
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


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("page", [False, True], ids=["site", "ticket-page"])
def test_printer_ticket_length_with_qr(width, page):
    # The ticket's page is a longer text than the site: a larger code and the hint under it
    # make the ticket ~7 mm longer (a 43-character token; ~5 mm with 22 characters).
    max_mm = 110 if page else 100
    qr = dict(qr_text=TICKET_URL, live_page=True) if page else dict(qr_text="mek.example.ru")
    lay = layout(topic_label=LONG_TOPIC, office_name="Офис-центр ООО «МЭК»", **qr,
                 footer_lines=("Контактный центр: 8\u00a0800\u00a0000-00-00", "Сайт: mek.example.ru"))
    data = compose_ticket(lay, PrinterSettings(cyrillic="image", paper_width_px=width, qr="image"))
    heights = _raster_heights(data)
    assert len(heights) == (3 if page else 2)  # the ticket, its QR code (and the hint under it)
    assert sum(heights) / PRINTER_DPI * 25.4 <= max_mm


def test_printer_large_print_is_larger():
    small = render_ticket_image(layout(), 576)
    large = render_ticket_image(layout(large_print=True), 576)
    assert large.height > small.height * 1.2


def test_printer_assisted_ticket_says_staff_will_come():
    lines = ticket_lines(layout(priority=True, assisted=True))
    assert ("emphasis", "Сопровождение: сотрудник подойдёт к Вам") in lines
    assert "Сопровождение: сотрудник подойдёт к Вам".encode("cp866") in compose_ticket(
        layout(priority=True, assisted=True), PrinterSettings())


def test_printer_text_mode_keeps_the_phone_whole():
    assert wrap("Контактный центр: 8\u00a0800\u00a0000-00-00", 32) == [
        "Контактный центр:", "8\u00a0800\u00a0000-00-00"]
