"""hardware.layout_check on tiny widget trees (no window needed)."""
import pytest

from hardware.layout_check import layout_problems, px_to_mm, screen_dpi


def test_screen_dpi_from_diagonal():
    assert screen_dpi(7, 800, 480) == pytest.approx(133.3, abs=0.1)
    assert screen_dpi(10.1, 1280, 800) == pytest.approx(149.4, abs=0.1)
    assert px_to_mm(133.3, 133.3) == pytest.approx(25.4)
    with pytest.raises(ValueError):
        screen_dpi(0, 800, 480)


def _root(*children, size=(800, 480)):
    from kivy.uix.floatlayout import FloatLayout

    root = FloatLayout(size=size, pos=(0, 0))
    for child in children:
        root.add_widget(child)
    return root


def _laid_out(root):
    from kivy.uix.label import Label

    stack = [root]
    while stack:
        w = stack.pop()
        if isinstance(w, Label):
            w.texture_update()
        stack.extend(w.children)
    return root


def _button(mm: float, dpi: float, **kw):
    from kivy.uix.button import Button

    px = mm / 25.4 * dpi
    return Button(text="OK", size_hint=(None, None), size=(px * 2, px), pos=(10, 10), **kw)


def test_a_fitting_tree_has_no_problems():
    dpi = screen_dpi(7, 800, 480)
    assert layout_problems(_laid_out(_root(_button(16, dpi))), (800, 480), dpi) == []


def test_a_10_mm_button_is_too_small():
    dpi = screen_dpi(7, 800, 480)
    problems = layout_problems(_laid_out(_root(_button(10, dpi))), (800, 480), dpi)
    assert len(problems) == 1 and "touch target" in problems[0] and "10.0" in problems[0]


def test_the_same_button_passes_at_kivys_default_96_dpi_but_not_at_the_real_one():
    # 60 px: 15.9 mm at 96 dpi, 11.4 mm on a 7" 800x480 panel
    from kivy.uix.button import Button

    root = _laid_out(_root(Button(text="OK", size_hint=(None, None), size=(120, 60), pos=(0, 0))))
    assert layout_problems(root, (800, 480), 96) == []
    assert layout_problems(root, (800, 480), screen_dpi(7, 800, 480))


def test_an_overflowing_label_is_reported():
    from kivy.uix.label import Label

    label = Label(text="Пожалуйста, подойдите к окну номер три", font_size=30,
                  size_hint=(None, None), size=(120, 40), pos=(0, 0))
    problems = layout_problems(_laid_out(_root(label)), (800, 480), 96)
    assert len(problems) == 1 and "text needs" in problems[0]


def test_a_wrapped_label_taller_than_its_box_is_reported_and_a_cut_one_too():
    from kivy.uix.label import Label

    wrapped = Label(text="слово " * 30, font_size=20, size_hint=(None, None), size=(200, 40), pos=(0, 0))
    wrapped.text_size = (200, None)
    clipped = Label(text="слово " * 30, font_size=20, size_hint=(None, None), size=(200, 40), pos=(0, 100))
    clipped.text_size = (200, 40)
    shortened = Label(text="слово " * 30, font_size=20, size_hint=(None, None), size=(200, 40), pos=(0, 200),
                      shorten=True)
    shortened.text_size = (200, 40)
    fits = Label(text="слово слово", font_size=20, size_hint=(None, None), size=(200, 80), pos=(0, 300))
    fits.text_size = (200, None)
    problems = layout_problems(_laid_out(_root(wrapped, clipped, shortened, fits)), (800, 480), 96)
    assert len(problems) == 3, problems


def test_a_widget_outside_the_window_is_reported():
    from kivy.uix.widget import Widget

    off = Widget(size_hint=(None, None), size=(100, 100), pos=(750, 0))
    problems = layout_problems(_laid_out(_root(off)), (800, 480), 96)
    assert len(problems) == 1 and "outside the 800×480 window" in problems[0]


def test_invisible_widgets_are_ignored():
    from kivy.uix.widget import Widget

    dpi = screen_dpi(7, 800, 480)
    hidden = _button(5, dpi, opacity=0)
    flat = Widget(size_hint=(None, None), size=(0, 0), pos=(900, 900))
    assert layout_problems(_laid_out(_root(hidden, flat)), (800, 480), dpi) == []
