"""Reading a QR code's modules back from pixels, for tests (pure Python).

There is no QR decoder among the project's dependencies, so the tests read the module
grid out of the picture (a printer raster, a screenshot) and compare it with the grid
the ``qrcode`` package makes for the expected text: equal grids carry equal text.
"""
from __future__ import annotations

import qrcode


def expected_modules(text: str, error_correction: int) -> list[list[bool]]:
    """The code for ``text`` without its quiet zone, as ``qrcode`` makes it."""
    code = qrcode.QRCode(error_correction=error_correction, border=0)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def read_modules(dark: list[list[bool]]) -> list[list[bool]]:
    """The module grid of the one QR code in ``dark`` (rows from the top, True = ink),
    which is light around the code: the code's box is where the ink is, the module size
    is the top-left finder pattern's width / 7, each module is read at its centre."""
    rows = [y for y, row in enumerate(dark) if any(row)]
    cols = [x for x in range(len(dark[0])) if any(row[x] for row in dark)]
    if not rows:
        raise AssertionError("no QR code: nothing dark")
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    run = 0
    while left + run <= right and dark[top][left + run]:
        run += 1
    module = run / 7
    count = round((right - left + 1) / module)
    assert abs(count * module - (right - left + 1)) < module / 2, "the code is not made of whole modules"
    assert abs((bottom - top + 1) - (right - left + 1)) <= 1, "the code is not square"
    return [[dark[int(top + (r + 0.5) * module)][int(left + (c + 0.5) * module)] for c in range(count)]
            for r in range(count)]


def raster_images(data: bytes) -> list[list[list[bool]]]:
    """Every ``GS v 0`` raster image in ESC/POS ``data``, as rows of dots (True = printed)."""
    images, at = [], data.find(b"\x1dv0")
    while at >= 0:
        width_bytes = int.from_bytes(data[at + 4:at + 6], "little")
        height = int.from_bytes(data[at + 6:at + 8], "little")
        body = data[at + 8:at + 8 + width_bytes * height]
        images.append([[bool(body[y * width_bytes + x // 8] & (0x80 >> (x % 8)))
                        for x in range(width_bytes * 8)] for y in range(height)])
        at = data.find(b"\x1dv0", at + 8 + width_bytes * height)
    return images
