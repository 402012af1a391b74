"""The QR code the kiosk shows on its screen, as a matrix of modules (no Kivy).

Error correction M (a screen seen at an angle, glare) and the standard quiet zone of
four light modules, part of the matrix so that the code stands out on a dark screen.
"""
from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """Rows from the top, ``True`` for a dark module, the quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def rgba_rows_bottom_up(matrix: list[list[bool]]) -> bytes:
    """The matrix as RGBA bytes, one pixel per module, bottom row first (the order
    OpenGL textures, and so Kivy's, are filled in)."""
    dark, light = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"
    return b"".join(dark if cell else light for row in reversed(matrix) for cell in row)
