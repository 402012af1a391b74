"""Render a ticket as a 1-bit Pillow image: Cyrillic that prints on any ESC/POS printer.

Cheap printers often lack CP866 or need an unusual ``ESC t`` number; a raster image
(``GS v 0``) always prints. 384 px wide for 58 mm paper, 576 px for 80 mm.
The font is found by file name in the system font folders (apt ``fonts-dejavu-core``).
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from hardware.printer_ticket import CAPTION, EMPHASIS, NUMBER, RULE, SMALL, TITLE, TOPIC, TicketLayout, ticket_lines

# Font size per style at 384 px; scaled with the paper width.
_SIZE_AT_384 = {TITLE: 26, CAPTION: 24, NUMBER: 112, TOPIC: 28, EMPHASIS: 24, SMALL: 20}
_BODY_SIZE_AT_384 = 22
_BOLD = {TITLE, NUMBER, TOPIC, EMPHASIS, CAPTION}
MARGIN_PX = 8


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


def _wrap_pixels(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def render_ticket_image(layout: TicketLayout, width: int, font_name: str = "DejaVuSans.ttf") -> Image.Image:
    """Return a black-on-white 1-bit image exactly ``width`` pixels wide."""
    scale = width / 384
    usable = width - 2 * MARGIN_PX
    canvas = Image.new("L", (width, 4000), 255)
    draw = ImageDraw.Draw(canvas)
    y = MARGIN_PX
    for style, text in ticket_lines(layout):
        if style == RULE:
            y += int(10 * scale)
            draw.line([(MARGIN_PX, y), (width - MARGIN_PX, y)], fill=0, width=max(2, int(2 * scale)))
            y += int(14 * scale)
            continue
        size = int(_SIZE_AT_384.get(style, _BODY_SIZE_AT_384) * scale)
        font = load_font(font_name, size, style in _BOLD)
        if style == NUMBER:
            while draw.textlength(text, font=font) > usable and size > 20:
                size -= 4
                font = load_font(font_name, size, True)
        ascent, descent = font.getmetrics()
        lines = _wrap_pixels(draw, text, font, usable)
        ink = 0
        if style == EMPHASIS:  # white on black, so priority and booking stand out
            block = len(lines) * (ascent + descent + int(4 * scale))
            draw.rectangle([(MARGIN_PX, y), (width - MARGIN_PX, y + block + int(4 * scale))], fill=0)
            y += int(2 * scale)
            ink = 255
        for line in lines:
            x = (width - int(draw.textlength(line, font=font))) // 2
            draw.text((x, y), line, font=font, fill=ink)
            y += ascent + descent + int(4 * scale)
        if style == EMPHASIS:
            y += int(8 * scale)
    y += MARGIN_PX
    return canvas.crop((0, 0, width, y)).convert("1")
