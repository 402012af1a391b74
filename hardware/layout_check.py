"""Does a Kivy screen fit its real screen? A check over a laid-out widget tree.

``layout_problems(root, window_size, dpi)`` walks the visible widgets under ``root``
(after Kivy has laid them out) and lists, in words, what a person would see wrong:

* a widget (partly) outside the window;
* a label whose rendered text is larger than its box (``texture_size`` against
  ``size``; with ``text_size`` set the text wraps, and a shortened text («…») counts
  as too large too);
* a touch target (a ``ButtonBehavior`` widget) smaller than ``MIN_TARGET_MM`` on a
  screen of ``dpi`` dots per inch.

Invisible widgets (opacity 0, zero size, or inside such a widget) are skipped, as are
widgets inside a scroll view's content beyond the viewport (they are reachable by
scrolling). ``screen_dpi`` turns a configured screen diagonal into a DPI.

Kivy is imported only inside the functions: this module is light to import.
"""
from __future__ import annotations

import math

MIN_TARGET_MM = 15.0
TOLERANCE_PX = 1.0     # rounding in Kivy's layouts


def screen_dpi(diagonal_in: float, width_px: int, height_px: int) -> float:
    """Dots per inch of a ``diagonal_in``-inch screen showing ``width_px``×``height_px``
    (square pixels): e.g. 7″ at 800×480 → 133 dpi."""
    if diagonal_in <= 0:
        raise ValueError("screen diagonal must be positive")
    return math.hypot(width_px, height_px) / diagonal_in


def px_to_mm(px: float, dpi: float) -> float:
    return px / dpi * 25.4


def _name(widget) -> str:
    text = getattr(widget, "text", None)
    wid = _widget_id(widget)
    label = type(widget).__name__
    if wid:
        label += f"#{wid}"
    if isinstance(text, str) and text.strip():
        short = " ".join(text.split())
        label += f" «{short[:40]}{'…' if len(short) > 40 else ''}»"
    return label


def _widget_id(widget) -> str:
    parent, seen = widget.parent, 0
    while parent is not None and seen < 200:   # (a window is its own parent)
        ids = getattr(parent, "ids", None) or {}
        for key, value in ids.items():
            if value is widget or getattr(value, "__self__", None) is widget:
                return key
        parent, seen = parent.parent, seen + 1
    return ""


def _hidden(widget) -> bool:
    if widget.opacity <= 0:
        return True
    if widget.width <= 0 or widget.height <= 0:
        return True
    return bool(getattr(widget, "disabled", False) and widget.opacity < 0.05)


def _needed_size(widget) -> tuple[float, float]:
    """The size the label's whole text needs (padding included), wrapped at its
    ``text_size`` width if it has one, never shortened nor cut to ``max_lines``."""
    core_cls = type(widget._label)
    options = {name: getattr(widget, name) for name in widget._font_properties}
    options.update(text_size=(widget.text_size[0], None), shorten=False, max_lines=0)
    core = core_cls(**options)
    core.text = widget.text
    core.render()
    return core._internal_size


def _label_problem(widget) -> str | None:
    from kivy.uix.label import Label

    if not isinstance(widget, Label) or not widget.text.strip():
        return None
    box_w, box_h = widget.width, widget.height
    if getattr(widget, "is_shortened", False):
        return f"{_name(widget)}: text cut with «…» in a {box_w:.0f}×{box_h:.0f} px box"
    need_w, need_h = _needed_size(widget)
    limit_w = box_w if widget.text_size[0] is None else min(box_w, widget.text_size[0])
    limit_h = box_h if widget.text_size[1] is None else min(box_h, widget.text_size[1])
    shown_h = widget.texture_size[1]
    t = TOLERANCE_PX
    if need_w > limit_w + t or need_h > limit_h + t or (widget.max_lines and need_h > shown_h + t):
        return (f"{_name(widget)}: text needs {need_w:.0f}×{need_h:.0f} px, "
                f"its box is {limit_w:.0f}×{limit_h:.0f} px")
    return None


def _target_problem(widget, dpi: float, min_mm: float) -> str | None:
    from kivy.uix.behaviors import ButtonBehavior

    if not isinstance(widget, ButtonBehavior) or widget.disabled:
        return None
    w_mm, h_mm = px_to_mm(widget.width, dpi), px_to_mm(widget.height, dpi)
    if min(w_mm, h_mm) + 0.05 < min_mm:
        return (f"{_name(widget)}: touch target {w_mm:.1f}×{h_mm:.1f} mm, "
                f"less than {min_mm:g} mm at {dpi:.0f} dpi")
    return None


def _outside(widget, window_size) -> str | None:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    ww, wh = window_size
    t = TOLERANCE_PX
    if x0 < -t or y0 < -t or x1 > ww + t or y1 > wh + t:
        return f"{_name(widget)}: at ({x0:.0f},{y0:.0f})–({x1:.0f},{y1:.0f}), outside the {ww}×{wh} window"
    return None


def _children(widget):
    """Children in drawing order, minus the part of a ScrollView's content scrolled away."""
    return list(reversed(widget.children))


def _in_scrolled_out(widget, clip) -> bool:
    if clip is None:
        return False
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    cx0, cy0, cx1, cy1 = clip
    return x1 <= cx0 or x0 >= cx1 or y1 <= cy0 or y0 >= cy1


def _text_rect(widget):
    """Where a label's text is drawn (window coordinates): its texture, centred in the
    widget as Kivy's Label draws it, cut to the widget."""
    w = min(widget.texture_size[0], widget.width)
    h = min(widget.texture_size[1], widget.height)
    cx, cy = widget.to_window(widget.center_x, widget.center_y)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _contains(outer, inner) -> bool:
    parent, seen = inner.parent, 0
    while parent is not None and seen < 200:   # (a window is its own parent)
        if parent is outer:
            return True
        parent, seen = parent.parent, seen + 1
    return False


def _overlaps(texts) -> list[str]:
    """Pairs of labels whose drawn texts cover each other (e.g. rules applied twice)."""
    found = []
    margin = 2 * TOLERANCE_PX
    for i, (a, ra) in enumerate(texts):
        for b, rb in texts[i + 1:]:
            if _contains(a, b) or _contains(b, a):
                continue
            if min(ra[2], rb[2]) - max(ra[0], rb[0]) > margin and min(ra[3], rb[3]) - max(ra[1], rb[1]) > margin:
                found.append(f"{_name(a)} and {_name(b)}: texts drawn over each other")
    return found


def layout_problems(root, window_size, dpi: float, *, min_target_mm: float = MIN_TARGET_MM) -> list[str]:
    """Every problem under ``root`` (inclusive) laid out in a ``window_size`` window on a
    ``dpi`` screen; empty when the screen fits. Lay the tree out first (e.g. a few
    ``EventLoop.idle()`` calls)."""
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    problems: list[str] = []
    texts: list = []
    window_size = (int(window_size[0]), int(window_size[1]))

    def visit(widget, clip) -> None:
        if _hidden(widget) or _in_scrolled_out(widget, clip):
            return
        if clip is None:
            found = _outside(widget, window_size)
            if found:
                problems.append(found)
        for check in (_label_problem(widget), _target_problem(widget, dpi, min_target_mm)):
            if check:
                problems.append(check)
        if isinstance(widget, Label) and widget.text.strip() and clip is None:
            texts.append((widget, _text_rect(widget)))
        inner = clip
        if isinstance(widget, ScrollView):
            x0, y0 = widget.to_window(widget.x, widget.y)
            x1, y1 = widget.to_window(widget.right, widget.top)
            inner = (x0, y0, x1, y1)
        for child in _children(widget):
            visit(child, inner)

    visit(root, None)
    return problems + _overlaps(texts)
