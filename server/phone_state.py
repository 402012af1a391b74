"""What the visitor's phone page shows, as one JSON-able dict, from the live office in memory.

``page_state`` is pure over its arguments: the live queue as the change feed sees it
(``server.live_feed.OfficeView``), the ticket's link (``storage.ticket_links.Link``) and the
announcement. The page, its JSON and its event stream all send this same dict, and the
page's script only draws it, so a phone that reconnects shows exactly what a fresh load
would. Texts are in the current language (``g.lang``: the link's language).
"""
from __future__ import annotations

import math

from queue_core.config import OfficeConfig
from queue_core.model import TicketState
from server.i18n import _, current_language, name_of, number
from server.live_feed import OfficeView, TicketView

# how the ticket ended (the last leg's outcome) → the page's state
ENDED = {"done": "done", "needs_followup": "done", "terminated": "closed", "no_show": "no_show",
         "left": "left", "cancelled": "cancelled"}


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """1 человек, 2 человека, 5 человек; 21 человек, 11 человек."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def people_ahead_text(n: int) -> str:
    """What stands after «Перед Вами»: «3 человека», «никого — Вы следующий»."""
    if current_language() == "en":
        return "nobody: you are next" if n == 0 else f"{n} {'person' if n == 1 else 'people'}"
    return "никого — Вы следующий" if n == 0 else f"{n} {plural_ru(n, 'человек', 'человека', 'человек')}"


def wait_text(minutes: float | None) -> str:
    """«около 12 минут», «около 1 ч 5 мин»; whole minutes rounded up, never a false promise of zero."""
    if minutes is None:
        return _("Сейчас нет открытых окон по Вашей теме: время ожидания уточняется")
    m = max(1, math.ceil(minutes))
    if m <= 1:
        return _("Ваша очередь совсем скоро")
    en = current_language() == "en"
    if m < 60:
        unit = ("minute" if m == 1 else "minutes") if en else plural_ru(m, "минута", "минуты", "минут")
        return (f"about {m} {unit}" if en else f"около {number(m)} {unit}")
    h, rest = divmod(m, 60)
    return f"about {h} h {rest} min" if en else f"около {number(h)} ч {number(rest)} мин"


def page_state(config: OfficeConfig, view: OfficeView | None, link, notice: str | None) -> dict:
    """The page of ``link``'s ticket. ``view`` is the live queue (``server.live_feed``; None:
    unknown, then the ticket is taken as ended); a ticket no longer live is shown by its outcome."""
    # ``seq``: the hub event this picture is as of (a page and a benchmark can tell it is current)
    base = {"v": 1, "seq": view.seq if view is not None else None, "office": name_of(config),
            "number": link.number, "notice": notice or "", "lang": current_language(), "final": False}
    ticket = view.tickets.get(link.number) if view is not None else None
    if ticket is None or ticket.day != link.day or link.ended:
        return {**base, **_ended(link)}
    topic = config.topic(ticket.topic)
    base.update(topic=name_of(topic), transferred=ticket.legs > 1)
    if ticket.state is TicketState.WAITING:
        return {**base, **_waiting(config, view, ticket)}
    window = ticket.window
    if ticket.state is TicketState.SERVING:
        return {**base, "state": "serving", "window": window,
                "headline": _("Вас обслуживают в окне {window}").format(window=window), "detail": ""}
    recalls = ticket.recalls
    call = _("Талон {number} — пройдите к окну {window}").format(number=ticket.number, window=window)
    detail = (_("Вас приглашают повторно. Пожалуйста, пройдите к окну {window}.").format(window=window) if recalls
              else _("Вас ждут. Спасибо, что подождали!"))
    return {**base, "state": "called", "window": window, "recalls": recalls, "headline": call, "detail": detail,
            "call_key": f"{ticket.number}:{ticket.legs}:{recalls}"}


def _waiting(config: OfficeConfig, view: OfficeView, ticket: TicketView) -> dict:
    ahead, eta = view.positions.get(ticket.number, (0, None))
    target = ticket.target_window
    if ticket.legs > 1:
        where = (_("Вас перевели к окну {window}.").format(window=target) if target is not None else
                 _("Вас перевели: тема «{topic}».").format(topic=name_of(config.topic(ticket.topic))))
        headline = where + " " + _("Пожалуйста, ожидайте вызова.")
    else:
        headline = _("Пожалуйста, ожидайте вызова")
    return {"state": "waiting", "ahead": ahead, "ahead_text": people_ahead_text(ahead), "eta_min": eta,
            "eta_text": wait_text(eta), "window": target, "headline": headline, "detail": ""}


def _ended(link) -> dict:
    state = ENDED.get(link.outcome or "", "closed")
    texts = {
        "done": (_("Обслуживание завершено"), _("Спасибо, что пришли! Хорошего дня.")),
        "left": (_("Вы вышли из очереди"), _("Спасибо, что предупредили. Если понадобится, возьмите новый талон.")),
        "no_show": (_("Талон закрыт: Вы не подошли на вызов"),
                    _("Если Вы ещё в офисе, пожалуйста, обратитесь к сотруднику или возьмите новый талон.")),
        "cancelled": (_("Талон отменён"), _("Если Вам нужна помощь, пожалуйста, обратитесь к сотруднику.")),
        "closed": (_("Талон больше не действует"), _("Если Вам нужна помощь, пожалуйста, обратитесь к сотруднику.")),
    }
    headline, detail = texts[state]
    return {"state": state, "final": True, "headline": headline, "detail": detail}
