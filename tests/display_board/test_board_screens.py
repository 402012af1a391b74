"""The board started the way ``talon board`` starts it (display_board/cli.py → BoardApp.run),
fed by the real dispatcher in this process, at every supported screen size: every
widget inside the window, no text larger than its box or drawn over other text, and the
current call's number readable from 10 m (cap height ≥ 1/8 of the screen height).
Screenshots are kept in $TALON_SCREENSHOTS (or a temp dir)."""
import argparse
import os
import tempfile
from pathlib import Path

import pytest

from hardware.layout_check import layout_problems, screen_dpi

SIZES = [(1920, 1080), (1280, 720), (1366, 768), (1080, 1920)]
SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-board-"))
MODES = {"hall": [], "grid": ["--grid"], "window": ["--window", "1"]}


def _office():
    from hub.local import LocalHub

    hub = LocalHub(waiting={"A": 4, "K": 3})
    for w in (1, 2, 3):
        hub.request(f"counter-{w}", "open", {"window": w})
    hub.request("counter-1", "sign_in", {"window": 1, "operator": "ivanova", "pin": "1234"})
    return hub


def _ink_rows(png: Path, box, rgb) -> int:
    """How many pixel rows inside ``box`` (window coordinates, origin bottom left) hold
    a pixel of colour ``rgb``: the drawn height of that text."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    x0, y0, x1, y1 = (int(v) for v in box)
    h = img.height
    target = tuple(int(c * 255) for c in rgb)
    rows = 0
    for y in range(max(0, h - y1), min(h, h - y0)):
        if any(all(abs(a - b) < 40 for a, b in zip(img.getpixel((x, y)), target)) for x in range(max(0, x0), min(img.width, x1), 2)):
            rows += 1
    return rows


@pytest.mark.kivy
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_screen_fits(size, mode):
    import display_board.app
    from display_board import cli
    from hardware.screen import register_widget_classes, run_scripted, screenshot

    register_widget_classes(display_board.app)

    hub = _office()
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--no-sound", "--min-display", "0", *MODES[mode]])
    app = cli.build_app(args, hub.bus("board-1"))
    seen = {}

    def script(app):
        for w in (1, 2, 3):
            hub.request(f"counter-{w}", "call_next", {"window": w})
        yield 0.4
        SHOTS.mkdir(parents=True, exist_ok=True)
        png = Path(screenshot(SHOTS / f"board-{mode}-{size[0]}x{size[1]}.png"))
        seen["problems"] = layout_problems(app.root, size, screen_dpi(43, *size))
        ids = app.root.ids
        if mode == "hall":
            seen["rows"] = [[c.text for c in reversed(r.children) if c.text] for r in reversed(ids.rows.children)]
            t = ids.now_ticket
            seen["cap"] = _ink_rows(png, (*t.to_window(t.x, t.y), *t.to_window(t.right, t.top)), (1, 0.80, 0.10))
            seen["ticket"] = t.text
        elif mode == "grid":
            seen["cells"] = len(ids.rows.children)
        else:
            seen["main"] = ids.main.text

    try:
        run_scripted(app, size, script)
    finally:
        hub.close()
    assert seen["problems"] == []
    if mode == "hall":
        calls = [row for row in seen["rows"] if row]
        # each call once: «А002 3», never «А002 3 А002 3»
        assert sorted(calls) == [["А001", "1"], ["А002", "3"], ["К001", "2"]], calls
        assert seen["ticket"] in {"А001", "А002", "К001"}
        assert seen["cap"] >= size[1] / 8, f"cap height {seen['cap']} px on a {size[1]} px high screen"
    elif mode == "grid":
        assert seen["cells"] == 3
    else:
        assert seen["main"] in {"А001", "А002", "К001"}
