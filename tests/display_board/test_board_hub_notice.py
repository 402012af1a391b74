"""The hall board's notice line follows the staff's announcement through the real hub
(``hub.local.LocalHub``: the real dispatcher and database, buses in memory)."""
from display_board.hall import BoardPresenter
from hub.local import LocalHub


def test_the_board_shows_the_hubs_announcement_and_its_clearing():
    hub = LocalHub()
    try:
        board = BoardPresenter(hub.bus("board-1"), now=lambda: hub.dispatcher.clock())
        board.start()
        configured = board.model.notice
        hub._publish(hub.dispatcher.announce("Окно 3 закрыто до 14:00"))
        assert (board.model.notice, board.model.announcement) == ("Окно 3 закрыто до 14:00", True)
        later = BoardPresenter(hub.bus("board-2"), now=lambda: hub.dispatcher.clock())   # a board rebooted now
        later.start()
        assert later.model.notice == "Окно 3 закрыто до 14:00"
        hub._publish(hub.dispatcher.announce(""))
        assert (board.model.notice, board.model.announcement) == (configured, False)
    finally:
        hub.close()
