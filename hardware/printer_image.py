"""Render a ticket as a 1-bit Pillow image: Cyrillic that prints on any ESC/POS printer.

Cheap printers often lack CP866 or need an unusual ``ESC t`` number; a raster image
(``GS v 0``) always prints. 384 px wide for 58 mm paper, 576 px for 80 mm.
The font is found by file name in the system font folders (apt ``fonts-dejavu-core``).
"""
from __future__ import annotations

from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from hardware.printer_ticket import CAPTION, EMPHASIS, NUMBER, RULE, SMALL, TITLE, TOPIC, TicketLayout, ticket_lines, word_pieces

# Font size per style at 384 px; scaled with the paper width.
_SIZE_AT_384 = {TITLE: 26, CAPTION: 24, NUMBER: 112, TOPIC: 28, EMPHASIS: 24, SMALL: 20}
_BODY_SIZE_AT_384 = 22
_BOLD = {TITLE, NUMBER, TOPIC, EMPHASIS, CAPTION}
MARGIN_PX = 8
QR_QUIET = 2    # light modules above and below the printed code (white paper lies around it)


@lru_cache(maxsize=32)
def load_font(name: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """Load ``name`` (or its ``-Bold`` sibling); Pillow searches the system font folders."""
    candidates = [name.replace(".ttf", "-Bold.ttf"), name] if bold else [name]
    for candidate in candidates:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    raise OSError(f"font {name!r} not found; install fonts-dejavu-core or set the ticket font")


def _hard_break(draw, piece: str, font, width: int) -> list[str]:
    """A piece wider than the paper even in the smallest type: break it with a hyphen."""
    out, current = [], ""
    for ch in piece:
        if current and draw.textlength(current + ch + "-", font=font) > width:
            out.append(current + "-")
            current = ""
        current += ch
    return out + [current]


def _wrap_pixels(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Greedy wrap at spaces and after hyphens; never cuts a word (see ``_fit``)."""
    lines: list[str] = []
    current = ""
    for piece, glued in word_pieces(text):
        if draw.textlength(piece, font=font) > width:
            broken = _hard_break(draw, piece, font, width)
            if current:
                lines.append(current)
            lines += broken[:-1]
            current = broken[-1]
            continue
        candidate = current + piece if glued or not current else f"{current} {piece}"
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = piece
        else:
            current = candidate
    lines.append(current)
    return lines


def _fit(draw, text: str, font_name: str, size: int, bold: bool, width: int, smallest: int):
    """The font and lines for ``text``: smaller type (down to ``smallest``) when one of its
    words would not fit the paper width, rather than cutting the word."""
    font = load_font(font_name, size, bold)
    widest = max((draw.textlength(piece, font=font) for piece, _ in word_pieces(text)), default=0)
    while widest > width and size > smallest:
        size -= 1
        font = load_font(font_name, size, bold)
        widest = max(draw.textlength(piece, font=font) for piece, _ in word_pieces(text))
    return font, _wrap_pixels(draw, text, font, width)


def text_scale(width: int, large_print: bool = False) -> float:
    """Type size against the 58 mm ticket: a little larger on 80 mm paper (keeping the
    ticket under 10 cm), a third larger in large print."""
    return (1.0 if width <= 384 else 1.1) * (1.35 if large_print else 1.0)


def render_caption_image(text: str, width: int, font_name: str = "DejaVuSans.ttf",
                         large_print: bool = False) -> Image.Image:
    """One short centred line, e.g. the hint printed under the QR code: in smaller type
    (down to 70 %) rather than on two lines, so the ticket stays short."""
    size = int(_SIZE_AT_384[SMALL] * text_scale(width, large_print))
    scratch = ImageDraw.Draw(Image.new("L", (width, 10), 255))
    usable = width - 2 * MARGIN_PX
    font = load_font(font_name, size, False)
    while scratch.textlength(text, font=font) > usable and size > int(_SIZE_AT_384[SMALL] * 0.7):
        size -= 1
        font = load_font(font_name, size, False)
    lines = _wrap_pixels(scratch, text, font, usable)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent + 2
    canvas = Image.new("L", (width, len(lines) * line_h + 2), 255)   # the feed to the cutter follows
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text(((width - int(draw.textlength(line, font=font))) // 2, i * line_h), line, font=font, fill=0)
    return canvas.convert("1")


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code of ``text`` without its quiet zone, rows from the top, True = dark.
    Error correction M: a thermal print may be scuffed or creased (~15 % recoverable)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def _balanced(draw, text: str, font, width: int, count: int) -> list[str]:
    """``text`` in ``count`` lines of about equal length («Следите за очередью / на телефоне»,
    not «… на / телефоне»): the narrowest width that still takes no more lines."""
    lines = _wrap_pixels(draw, text, font, width)
    while width > 1:
        narrower = _wrap_pixels(draw, text, font, width - 4)
        if len(narrower) > count:
            break
        lines, width = narrower, width - 4
    return lines


def render_qr_image(text: str, width: int, module: int, hint: str | None = None,
                    font_name: str = "DejaVuSans.ttf", large_print: bool = False) -> Image.Image:
    """The ticket's QR code as a 1-bit picture ``width`` dots wide, ``module`` dots per module;
    with ``hint`` («Следите за очередью на телефоне») written beside the code rather than
    under it, so the ticket stays short. Light margins: QR_QUIET modules above and below
    (the paper around adds more), four between the code and the hint."""
    matrix = qr_modules(text)
    side = len(matrix) * module
    quiet = QR_QUIET * module
    font, lines, line_h, text_w = None, [], 0, 0
    if hint:
        scratch = ImageDraw.Draw(Image.new("L", (width, 10), 255))
        room = width - 2 * MARGIN_PX - side - 4 * module
        size = int(_BODY_SIZE_AT_384 * text_scale(width, large_print))
        smallest = int(size * 0.7)
        while True:   # smaller type until the hint is no taller than the code
            font = load_font(font_name, size, True)
            lines = _wrap_pixels(scratch, hint, font, room)
            ascent, descent = font.getmetrics()
            line_h = ascent + descent + 2
            if len(lines) * line_h <= side or size <= smallest:
                break
            size -= 1
        lines = _balanced(scratch, hint, font, room, len(lines))
        text_w = max(int(scratch.textlength(line, font=font)) for line in lines)
    group = side + (4 * module + text_w if hint else 0)
    left = max(MARGIN_PX, (width - group) // 2)
    height = max(side, len(lines) * line_h) + 2 * quiet
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    top = (height - side) // 2
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x, y = left + c * module, top + r * module
                draw.rectangle([(x, y), (x + module - 1, y + module - 1)], fill=0)
    if hint:
        x = left + side + 4 * module
        y = (height - len(lines) * line_h) // 2
        for line in lines:
            draw.text((x, y), line, font=font, fill=0)
            y += line_h
    return canvas.convert("1")


def render_ticket_image(layout: TicketLayout, width: int, font_name: str = "DejaVuSans.ttf") -> Image.Image:
    """Return a black-on-white 1-bit image exactly ``width`` pixels wide."""
    scale = text_scale(width, layout.large_print)
    usable = width - 2 * MARGIN_PX
    canvas = Image.new("L", (width, 4000), 255)
    draw = ImageDraw.Draw(canvas)
    y = MARGIN_PX
    lead = max(2, int(3 * scale))
    for style, text in ticket_lines(layout):
        if style == RULE:
            y += int(6 * scale)
            draw.line([(MARGIN_PX, y), (width - MARGIN_PX, y)], fill=0, width=max(2, int(2 * scale)))
            y += int(8 * scale)
            continue
        if style == NUMBER:
            size = int(_SIZE_AT_384[NUMBER] * (1.2 if width > 384 else 1.0) * (1.15 if layout.large_print else 1.0))
            font = load_font(font_name, size, True)
            while draw.textlength(text, font=font) > usable and size > 20:
                size -= 4
                font = load_font(font_name, size, True)
            # The number's own ink plus a little air, not the font's line (room for accents
            # above and descenders below that digits and capitals mostly lack): ~5 mm shorter.
            _, ink_top, _, ink_bottom = draw.textbbox((0, 0), text, font=font)
            pad = int(8 * scale)
            draw.text(((width - int(draw.textlength(text, font=font))) // 2, y + pad - ink_top), text,
                      font=font, fill=0)
            y += ink_bottom - ink_top + 2 * pad
            continue
        size = int(_SIZE_AT_384.get(style, _BODY_SIZE_AT_384) * scale)
        font, lines = _fit(draw, text, font_name, size, style in _BOLD, usable, int(size * 0.7))
        ascent, descent = font.getmetrics()
        ink = 0
        if style == EMPHASIS:  # white on black, so priority and booking stand out
            block = len(lines) * (ascent + descent + lead)
            draw.rectangle([(MARGIN_PX, y), (width - MARGIN_PX, y + block + int(4 * scale))], fill=0)
            y += int(2 * scale)
            ink = 255
        for line in lines:
            x = (width - int(draw.textlength(line, font=font))) // 2
            draw.text((x, y), line, font=font, fill=ink)
            y += ascent + descent + lead
        if style == EMPHASIS:
            y += int(6 * scale)
    y += MARGIN_PX
    return canvas.crop((0, 0, width, y)).convert("1")
