"""The kiosk's behaviour, screen by screen, with FakeBus as the hub and FakePrinter."""
from datetime import datetime, timedelta, timezone

import pytest

from broker.errors import CommandError, HubUnreachable
from hardware.printer_fake import FakePrinter
from hardware.printer_status import PrinterState
from kiosk.presenter import KioskOptions, KioskPresenter, Screen
from tests.kiosk.office_fixture import CONFIG, PAGE_BASE, office_bus

OFFICE_TZ = timezone(timedelta(hours=5))


class Clock:
    def __init__(self):
        self.seconds = 1000.0
        self.now = datetime(2025, 3, 12, 10, 42, tzinfo=OFFICE_TZ)

    def monotonic(self):
        return self.seconds

    def advance(self, seconds):
        self.seconds += seconds
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bus():
    return office_bus()


@pytest.fixture
def printer():
    return FakePrinter()


def started_kiosk(bus, printer, clock, **extra) -> KioskPresenter:
    """A kiosk on the test's clock, started: it has read the hub's retained state."""
    presenter = KioskPresenter(bus, printer, monotonic=clock.monotonic, now=lambda: clock.now, **extra)
    presenter.start()
    return presenter


@pytest.fixture
def kiosk(bus, printer, clock):
    return started_kiosk(bus, printer, clock,
                         options=KioskOptions(ticket_display_s=8, idle_timeout_s=45, message_display_s=15))


def topic(view, code):
    return next(choice for choice in view.topics if choice.code == code)


# --- welcome ---------------------------------------------------------------------------------
def test_kiosk_welcome_shows_office_greeting_and_clock(kiosk):
    view = kiosk.view()
    assert view.screen == Screen.ATTRACT
    assert view.office_name == "Центр обслуживания клиентов"
    assert view.greeting == "Доброе утро!"
    assert view.clock == "10:42"
    assert view.t("help") == "Нужна помощь? Вызов персонала"
    assert view.banner == ""


@pytest.mark.parametrize("hour, greeting", [(6, "Доброе утро!"), (13, "Добрый день!"),
                                            (19, "Добрый вечер!"), (23, "Здравствуйте!"),
                                            (3, "Здравствуйте!")])
def test_kiosk_greeting_follows_the_office_clock(kiosk, clock, hour, greeting):
    clock.now = clock.now.replace(hour=hour)
    assert kiosk.view().greeting == greeting


def test_kiosk_greeting_uses_the_office_time_zone(kiosk, clock):
    clock.now = datetime(2025, 3, 12, 8, 0, tzinfo=timezone.utc)  # 13:00 in Yekaterinburg
    assert kiosk.view().greeting == "Добрый день!"
    assert kiosk.view().clock == "13:00"


def test_kiosk_publishes_its_printer_status_at_start(kiosk, bus):
    assert bus.statuses[-1]["printer"] == {"state": "ok", "detail": None}
    assert bus.statuses[-1]["tickets"] == "accepting"


# --- segments and topics -------------------------------------------------------------------
def test_kiosk_asks_for_the_segment_when_the_office_has_several(kiosk):
    kiosk.begin()
    view = kiosk.view()
    assert view.screen == Screen.SEGMENT
    assert [s.label for s in view.segments] == ["Частные клиенты", "Корпоративные клиенты"]
    kiosk.choose_segment("b2b")
    assert [t.code for t in kiosk.view().topics] == ["D"]


def test_kiosk_skips_the_segment_screen_with_one_segment(bus, printer, clock):
    config = dict(CONFIG, segments=CONFIG["segments"][:1], topics=CONFIG["topics"][:2])
    bus.set_state("config", config)
    kiosk = KioskPresenter(bus, printer, monotonic=clock.monotonic, now=lambda: clock.now)
    kiosk.start()
    kiosk.begin()
    assert kiosk.view().screen == Screen.TOPICS


def test_kiosk_topics_show_queue_and_expected_wait(kiosk):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    view = kiosk.view()
    assert view.topics_title == "Выберите тему обращения"
    consult = topic(view, "A")
    assert consult.label == "Консультация" and consult.enabled
    assert consult.detail == "В очереди: 3 чел. · Ожидание ~12 мин"


def test_kiosk_topic_not_accepting_is_disabled_with_the_reason(kiosk, bus):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    cash = topic(kiosk.view(), "K")
    assert not cash.enabled
    assert cash.detail == "Приём по данной теме на сегодня завершён"
    kiosk.choose_topic("K")
    assert kiosk.view().screen == Screen.MESSAGE
    assert kiosk.view().message_body == "Приём по данной теме на сегодня завершён"
    assert bus.sent == []


def test_kiosk_queue_updates_reach_the_topic_buttons(kiosk, bus):
    seen = []
    kiosk.on_change(seen.append)
    kiosk.begin()
    kiosk.choose_segment("b2c")
    bus.set_state("queue", {"topics": {"A": {"waiting": 9, "eta_min": 30, "accepting": True},
                                       "K": {"accepting": False, "reason": "no_window"}}})
    assert topic(seen[-1], "A").detail == "В очереди: 9 чел. · Ожидание ~30 мин"
    assert topic(seen[-1], "K").detail == "Сейчас нет открытых окон по этой теме"


# --- the ticket ----------------------------------------------------------------------------------
def test_kiosk_topic_tap_issues_prints_and_shows_take_your_ticket(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert bus.sent == [("issue", {"topic": "A", "kind": "walk_in", "segment": "b2c"})]
    view = kiosk.view()
    assert view.screen == Screen.TICKET
    assert view.t("take_ticket") == "Возьмите, пожалуйста, талон"
    assert view.ticket_number == "А015"
    assert "Перед Вами в очереди: 3 чел." in view.ticket_lines
    assert len(printer.jobs) == 1
    job = printer.jobs[0]
    assert "А015".encode("cp866") in job and "Консультация".encode("cp866") in job
    assert "Сайт: mek.example.ru".encode("cp866") in job


def test_kiosk_ticket_screen_returns_to_start_after_its_time(kiosk, clock):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    clock.advance(7)
    kiosk.tick()
    assert kiosk.view().screen == Screen.TICKET
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view().screen == Screen.ATTRACT
    assert kiosk.view().ticket_number == ""


def test_kiosk_idle_timeout_goes_back_to_start_and_forgets_choices(kiosk, clock):
    kiosk.begin()
    kiosk.choose_segment("b2b")
    kiosk.switch_language()
    clock.advance(44)
    kiosk.tick()
    assert kiosk.view().screen == Screen.TOPICS
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view().screen == Screen.ATTRACT
    assert kiosk.segment is None and kiosk.view().lang == "ru"


def test_kiosk_welcome_screen_does_not_time_out(kiosk, clock):
    clock.advance(3600)
    kiosk.tick()
    assert kiosk.view().screen == Screen.ATTRACT


def test_kiosk_back_steps_out_of_the_topic_screen(kiosk):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.back()
    assert kiosk.view().screen == Screen.SEGMENT
    kiosk.back()
    assert kiosk.view().screen == Screen.ATTRACT


# --- booking check-in ----------------------------------------------------------------------------
def test_kiosk_checkin_keypad_sends_the_code(kiosk, bus, printer):
    kiosk.open_checkin()
    assert kiosk.view().screen == Screen.CHECKIN
    for digit in "12345":
        kiosk.press_digit(digit)
    kiosk.erase_digit()
    kiosk.press_digit("x")
    assert kiosk.view().checkin_code == "1234"
    kiosk.submit_checkin()
    assert bus.sent == [("checkin", {"code": "1234"})]
    assert kiosk.view().screen == Screen.TICKET
    assert len(printer.jobs) == 1


@pytest.mark.parametrize("slot_start, shown", [("2025-03-12T11:00:00+05:00", "11:00"),
                                                ("2025-03-12T05:30:00+00:00", "10:30")])   # office-local
def test_kiosk_checked_in_booking_prints_its_booking_time(kiosk, bus, printer, slot_start, shown):
    bus.handler.slot_start = slot_start
    kiosk.open_checkin()
    for digit in "4821":
        kiosk.press_digit(digit)
    kiosk.submit_checkin()
    assert f"Запись на {shown}".encode("cp866") in printer.jobs[0]
    assert f"Запись на {shown}" in kiosk.view().ticket_lines


def test_kiosk_walk_in_ticket_has_no_booking_time(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert "Запись".encode("cp866") not in printer.jobs[0]
    assert not any("Запись" in line for line in kiosk.view().ticket_lines)


def test_kiosk_checkin_empty_code_sends_nothing(kiosk, bus):
    kiosk.open_checkin()
    kiosk.submit_checkin()
    assert bus.sent == [] and kiosk.view().screen == Screen.CHECKIN


@pytest.mark.parametrize("code, message", [
    ("0000", "Запись с таким кодом не найдена. Пожалуйста, проверьте код или обратитесь к администратору."),
    ("1111", "Время Вашей записи ещё не наступило."),
    ("2222", "Время Вашей записи, к сожалению, прошло."),
])
def test_kiosk_checkin_refusals_are_explained_politely(kiosk, printer, code, message):
    kiosk.open_checkin()
    for digit in code:
        kiosk.press_digit(digit)
    kiosk.submit_checkin()
    view = kiosk.view()
    assert view.screen == Screen.MESSAGE
    assert view.message_body.startswith(message)
    assert printer.jobs == []


def test_kiosk_message_returns_to_start_after_its_time(kiosk, clock):
    kiosk.open_checkin()
    kiosk.press_digit("0")
    kiosk.submit_checkin()
    clock.advance(15)
    kiosk.tick()
    assert kiosk.view().screen == Screen.ATTRACT


# --- priority ---------------------------------------------------------------------------------------
def test_kiosk_priority_explains_who_qualifies_and_issues_a_priority_ticket(kiosk, bus, printer):
    kiosk.open_priority()
    view = kiosk.view()
    assert view.screen == Screen.PRIORITY
    assert "законодательством РФ" in view.t("priority_body")
    assert [c.label for c in view.priority_categories] == ["Люди с инвалидностью", "Ветераны ВОВ"]
    kiosk.choose_priority_category("disabled")
    assert kiosk.view().topics_title == "Вне очереди: выберите тему обращения"
    kiosk.choose_topic("A")
    assert bus.sent == [("issue", {"topic": "A", "kind": "priority", "category": "disabled"})]
    assert "Обслуживание вне очереди".encode("cp866") in printer.jobs[0]
    assert kiosk.view().ticket_lines[0] == "Обслуживание вне очереди"


def test_kiosk_back_from_priority_topics_returns_to_categories(kiosk):
    kiosk.open_priority()
    kiosk.choose_priority_category("veteran")
    kiosk.back()
    assert kiosk.view().screen == Screen.PRIORITY and kiosk.priority_category is None


# --- language --------------------------------------------------------------------------------------
def test_kiosk_switches_to_english_and_back(kiosk, printer):
    kiosk.switch_language()
    view = kiosk.view()
    assert view.lang == "en" and view.office_name == "Customer Service Centre"
    assert view.greeting == "Good morning!" and view.t("start") == "Take a ticket"
    kiosk.begin()
    kiosk.choose_segment("b2c")
    assert topic(kiosk.view(), "A").label == "Consultation"
    kiosk.choose_topic("A")
    assert kiosk.view().t("take_ticket") == "Please take your ticket"
    assert b"TICKET No." in printer.jobs[0]
    kiosk.go_home()
    assert kiosk.view().lang == "ru"


# --- printer problems --------------------------------------------------------------------------
def test_kiosk_paper_out_stops_new_tickets_and_publishes_status(kiosk, bus, printer):
    printer.state = PrinterState.PAPER_OUT
    kiosk.poll_printer()
    view = kiosk.view()
    assert view.screen == Screen.OUT_OF_SERVICE
    assert view.message_title == "Терминал временно не работает"
    assert "Закончилась бумага для талонов." in view.message_body
    assert bus.statuses[-1]["printer"]["state"] == "paper_out"
    assert bus.statuses[-1]["tickets"] == "stopped"
    kiosk.begin()
    kiosk.choose_topic("A")
    assert bus.sent == [] and printer.jobs == []


def test_kiosk_paper_out_found_at_the_tap_issues_nothing(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    printer.state = PrinterState.COVER_OPEN
    kiosk.choose_topic("A")
    assert bus.sent == []  # the hub was never asked: no orphan ticket
    assert kiosk.view().screen == Screen.OUT_OF_SERVICE
    assert "Открыта крышка принтера." in kiosk.view().message_body


def test_kiosk_resumes_when_paper_is_back(kiosk, bus, printer):
    printer.state = PrinterState.PAPER_OUT
    kiosk.poll_printer()
    printer.state = PrinterState.OK
    kiosk.poll_printer()
    assert kiosk.view().screen == Screen.ATTRACT
    assert bus.statuses[-1]["printer"]["state"] == "ok"


def test_kiosk_paper_near_end_still_prints_and_reports(kiosk, bus, printer):
    printer.state = PrinterState.PAPER_NEAR_END
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert kiosk.view().screen == Screen.TICKET
    assert bus.statuses[-1]["printer"]["state"] == "paper_near_end"


def test_kiosk_print_failure_after_issue_keeps_the_number_on_screen_and_reprints(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.ERROR
    kiosk.choose_topic("A")
    view = kiosk.view()
    assert view.screen == Screen.PRINT_FAILED
    assert view.ticket_number == "А015"
    assert view.t("reprint") == "Напечатать ещё раз"
    assert bus.statuses[-1]["printer"]["state"] == "error"
    printer.state = PrinterState.OK
    kiosk.reprint()
    assert kiosk.view().screen == Screen.TICKET
    assert len(bus.sent) == 1  # the same ticket, not a new one
    assert "А015".encode("cp866") in printer.jobs[-1]


def test_kiosk_print_failure_does_not_time_out_quickly(kiosk, clock, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.ERROR
    kiosk.choose_topic("A")
    clock.advance(10)
    kiosk.tick()
    assert kiosk.view().screen == Screen.PRINT_FAILED
    clock.advance(40)
    kiosk.tick()
    assert kiosk.view().screen == Screen.OUT_OF_SERVICE  # the printer is still in error


def test_kiosk_paper_out_while_printing_shows_only_out_of_service_with_the_number(kiosk, clock, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.PAPER_OUT
    kiosk.choose_topic("A")
    view = kiosk.view()
    assert view.screen == Screen.OUT_OF_SERVICE  # no «Напечатать ещё раз»: nothing to reprint on
    assert "Закончилась бумага для талонов." in view.message_body
    assert "А015" in view.message_body
    clock.advance(50)
    kiosk.tick()
    assert "А015" not in kiosk.view().message_body  # the next person does not see it
    printer.state = PrinterState.OK
    kiosk.poll_printer()
    assert kiosk.view().screen == Screen.ATTRACT


def test_kiosk_assisted_ticket_says_staff_will_come(kiosk, bus, printer):
    bus.handler = lambda op, args: {"ticket": {"number": "А015", "topic": "A", "kind": "priority",
                                               "assisted": True}}
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert printer.layouts[-1].assisted
    assert "Сопровождение: сотрудник подойдёт к Вам".encode("cp866") in printer.jobs[-1]
    assert "Сопровождение: сотрудник подойдёт к Вам" in kiosk.view().ticket_lines


def test_kiosk_speak_reads_the_choices_and_then_the_ticket(kiosk, printer):
    said = []
    kiosk.speaker = lambda sentence, lang: said.append((sentence, lang))
    kiosk.begin()
    kiosk.speak()
    assert "Частные клиенты" in said[-1][0] and "Корпоративные клиенты" in said[-1][0]
    kiosk.choose_segment("b2c")
    kiosk.speak()
    assert "Выберите тему обращения" in said[-1][0]
    assert "Кассовая операция — недоступно" in said[-1][0]
    kiosk.choose_topic("A")
    assert said[-1] == ("Ваш талон: а пятнадцать. Консультация. Пожалуйста, ожидайте приглашения "
                        "на табло.", "ru")
    kiosk.go_home()
    count = len(said)
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert len(said) == count  # the next visitor did not ask for the voice


def test_kiosk_large_text_mode_prints_large_and_ends_with_the_visitor(kiosk, printer):
    kiosk.toggle_large_text()
    assert kiosk.view().large_text
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert printer.layouts[-1].large_print
    kiosk.go_home()
    assert not kiosk.view().large_text


# --- the hub -------------------------------------------------------------------------------------
def test_kiosk_hub_unreachable_during_issue_prints_nothing(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    bus.connected = False  # the request fails, as after the client's retries
    kiosk.choose_topic("A")
    view = kiosk.view()
    assert view.screen == Screen.UNREACHABLE
    assert view.message_body.startswith("Нет связи с сервером очереди")
    assert printer.jobs == []


def unanswered(bus, times=1):
    """The next ``times`` requests reach FakeBus (their ids are recorded) but get no reply."""
    hub, left = bus.handler, [times]

    def handler(op, args):
        if left[0]:
            left[0] -= 1
            raise HubUnreachable()
        return hub(op, args)
    bus.handler = handler


def tap_topic_a(kiosk):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")


def test_kiosk_gives_up_on_the_hub_within_three_seconds():
    assert KioskOptions().request_timeout_s == 3.0


def test_kiosk_unreachable_offers_retry_and_call_staff_and_retry_reuses_the_id(kiosk, bus, printer):
    unanswered(bus)
    tap_topic_a(kiosk)
    view = kiosk.view()
    assert view.screen == Screen.UNREACHABLE and printer.jobs == []
    assert "«Повторить»" in view.message_body and "«Вызов персонала»" in view.message_body
    kiosk.retry()
    assert kiosk.view().screen == Screen.TICKET and len(printer.jobs) == 1
    assert len(bus.request_ids) == 2 and bus.request_ids[0] == bus.request_ids[1] is not None
    assert bus.sent[0] == bus.sent[1]


def test_kiosk_tapping_the_same_topic_again_reuses_the_id(kiosk, bus, printer):
    unanswered(bus, times=2)
    tap_topic_a(kiosk)
    kiosk.go_home()
    tap_topic_a(kiosk)                 # unanswered again
    assert kiosk.view().screen == Screen.UNREACHABLE
    kiosk.go_home()
    tap_topic_a(kiosk)
    assert kiosk.view().screen == Screen.TICKET and len(printer.jobs) == 1
    assert len(set(bus.request_ids)) == 1 and len(bus.request_ids) == 3


def test_kiosk_same_booking_code_again_reuses_the_id(kiosk, bus):
    unanswered(bus)
    kiosk.open_checkin()
    for digit in "4821":
        kiosk.press_digit(digit)
    kiosk.submit_checkin()
    assert kiosk.view().screen == Screen.UNREACHABLE
    kiosk.go_home()
    kiosk.open_checkin()
    for digit in "4821":
        kiosk.press_digit(digit)
    kiosk.submit_checkin()
    assert kiosk.view().screen == Screen.TICKET
    assert bus.request_ids[0] == bus.request_ids[1]


def test_kiosk_a_different_choice_gets_a_fresh_id(kiosk, bus):
    unanswered(bus)
    tap_topic_a(kiosk)
    kiosk.go_home()
    kiosk.begin()
    kiosk.choose_segment("b2b")
    kiosk.choose_topic("D")
    assert kiosk.view().screen == Screen.TICKET
    assert len(set(bus.request_ids)) == 2 and None not in bus.request_ids


def test_kiosk_the_next_ticket_after_a_success_gets_a_fresh_id(kiosk, bus, printer):
    tap_topic_a(kiosk)
    kiosk.go_home()
    tap_topic_a(kiosk)
    assert len(printer.jobs) == 2 and len(set(bus.request_ids)) == 2


def test_kiosk_unreachable_screen_times_out_and_the_next_visitor_starts_afresh(kiosk, bus, clock):
    unanswered(bus)
    tap_topic_a(kiosk)
    clock.advance(44)
    kiosk.tick()
    assert kiosk.view().screen == Screen.UNREACHABLE   # the visitor may still be deciding
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view().screen == Screen.ATTRACT and kiosk.pending is None
    tap_topic_a(kiosk)
    assert kiosk.view().screen == Screen.TICKET and len(set(bus.request_ids)) == 2


def test_kiosk_call_staff_from_the_unreachable_screen_keeps_the_retry(kiosk, bus, printer):
    unanswered(bus)
    tap_topic_a(kiosk)
    kiosk.call_staff()
    assert bus.statuses[-1]["help_requested_at"]
    kiosk.retry()
    assert len(printer.jobs) == 1 and bus.request_ids[0] == bus.request_ids[1]


def test_kiosk_tap_while_disconnected_sends_nothing_and_offers_retry(kiosk, bus, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    bus.set_connected(False)
    kiosk.choose_topic("A")
    assert kiosk.view().screen == Screen.UNREACHABLE and bus.sent == []
    bus.set_connected(True)
    kiosk.retry()
    assert len(printer.jobs) == 1 and len(bus.request_ids) == 1 and kiosk.pending is None


def test_kiosk_disconnected_hub_shows_a_banner_and_blocks_start(kiosk, bus, printer):
    bus.set_connected(False)
    assert kiosk.view().banner == "Нет связи с сервером очереди…"
    kiosk.begin()
    assert kiosk.view().screen == Screen.MESSAGE
    bus.set_connected(True)
    assert kiosk.view().banner == ""


def test_kiosk_hub_refusal_shows_the_hubs_message(kiosk, bus, printer):
    def refuse(op, args):
        raise CommandError("topic_closed", "Приём по теме закрыт", "Topic closed")
    bus.handler = refuse
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert kiosk.view().message_body == "Приём по теме закрыт"
    assert printer.jobs == []


def test_kiosk_reply_without_a_ticket_prints_nothing(kiosk, bus, printer):
    bus.handler = lambda op, args: {}
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert kiosk.view().screen == Screen.MESSAGE and printer.jobs == []


# --- help -----------------------------------------------------------------------------------------
def test_kiosk_call_staff_publishes_a_help_request(kiosk, bus):
    kiosk.call_staff()
    assert bus.statuses[-1]["help_requested_at"] == "2025-03-12T10:42:00+05:00"
    assert kiosk.view().message_title == "Сотрудник скоро подойдёт к Вам"


def test_kiosk_listeners_get_each_new_view_once(kiosk):
    seen = []
    kiosk.on_change(seen.append)
    kiosk.tick()
    kiosk.tick()
    assert seen == []  # nothing changed
    kiosk.begin()
    assert [v.screen for v in seen] == [Screen.SEGMENT]


def test_kiosk_strings_are_polite():
    from kiosk.strings import STRINGS
    assert STRINGS["ru"].keys() == STRINGS["en"].keys()
    for value in STRINGS["ru"].values():
        for word in ("Явит", "Пройдит", "Вы должны", "Вы обязаны"):
            assert word not in value


def test_kiosk_keeps_its_state_when_the_hub_sends_garbage(kiosk, bus):
    before = kiosk.view()
    bus.set_state("config", {"v": 1, "topics": [{"name": "no code"}]})
    bus.set_state("queue", {"v": 1, "topics": {"A": {"waiting": "many"}}})
    assert kiosk.view() == before and kiosk.config.topics


# --- the ticket on the phone (issue 14): its page in the QR code, paperless on request ------------
@pytest.fixture
def web_bus():
    return office_bus(PAGE_BASE)


@pytest.fixture
def web_kiosk(web_bus, printer, clock):
    return started_kiosk(web_bus, printer, clock,
                         options=KioskOptions(ticket_display_s=8, idle_timeout_s=45, phone_display_s=30))


def take_printed_ticket(kiosk):
    """The first visitor: the kiosk learns from the reply that the hub serves ticket pages."""
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert kiosk.view().screen == Screen.TICKET
    kiosk.go_home()


def test_kiosk_printed_ticket_qr_is_the_tickets_page(web_kiosk, printer):
    take_printed_ticket(web_kiosk)
    layout = printer.layouts[-1]
    assert layout.qr_text == f"{PAGE_BASE}/t/tok15-Xq8mVx2Lr0aZ7eKfN1sYtB" and layout.live_page
    assert layout.qr_text.encode() in printer.jobs[-1]          # the default profile prints it natively
    assert "Следите за очередью на телефоне".encode("cp866") in printer.jobs[-1]


def test_kiosk_printed_ticket_qr_falls_back_to_the_site_without_a_page(kiosk, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    kiosk.choose_topic("A")
    assert printer.layouts[-1].qr_text == "mek.example.ru" and not printer.layouts[-1].live_page
    assert "Следите".encode("cp866") not in printer.jobs[-1]


def test_kiosk_offers_paperless_only_once_the_hub_has_given_a_page(web_kiosk, kiosk, printer):
    for presenter in (web_kiosk, kiosk):
        presenter.begin()
        presenter.choose_segment("b2c")
        assert not presenter.view().paperless_offered          # not known yet: never promised
        presenter.toggle_paperless()
        assert not presenter.view().paperless
        presenter.choose_topic("A")
        presenter.go_home()
    assert web_kiosk.view().paperless_offered                  # its hub gave the ticket a page
    assert not kiosk.view().paperless_offered                  # this hub has no web


def test_kiosk_paperless_topic_shows_the_code_and_prints_nothing(web_kiosk, web_bus, printer, clock):
    take_printed_ticket(web_kiosk)
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    web_kiosk.toggle_paperless()
    view = web_kiosk.view()
    assert view.paperless and "Талон не будет напечатан" in view.t("paperless_hint")
    web_kiosk.choose_topic("A")
    view = web_kiosk.view()
    assert view.screen == Screen.PHONE
    assert len(printer.jobs) == 1                               # only the first visitor's
    assert web_bus.sent[-1] == ("issue", {"topic": "A", "kind": "walk_in", "segment": "b2c"})  # issued as usual
    assert view.ticket_url == f"{PAGE_BASE}/t/tok16-Xq8mVx2Lr0aZ7eKfN1sYtB"
    assert view.ticket_number == "А016" and view.ticket_topic == "Консультация"
    assert "Перед Вами в очереди: 3 чел." in view.ticket_lines
    assert "Ориентировочное время ожидания: ~12 мин" in view.ticket_lines
    assert view.t("phone_title") == "Наведите камеру телефона на код"
    clock.advance(10)
    web_kiosk.tick()
    assert web_kiosk.view().screen == Screen.PHONE              # longer than a printed ticket's 8 s
    clock.advance(20)
    web_kiosk.tick()
    view = web_kiosk.view()
    assert view.screen == Screen.ATTRACT and not view.paperless and not view.ticket_url


def test_kiosk_paperless_checkin(web_kiosk, printer):
    take_printed_ticket(web_kiosk)
    web_kiosk.open_checkin()
    assert web_kiosk.view().paperless_offered
    for digit in "4821":
        web_kiosk.press_digit(digit)
    web_kiosk.submit_checkin(True)
    view = web_kiosk.view()
    assert view.screen == Screen.PHONE and view.ticket_url.endswith("/t/tok16-Xq8mVx2Lr0aZ7eKfN1sYtB")
    assert "Запись на 11:00" in view.ticket_lines
    assert len(printer.jobs) == 1
    web_kiosk.go_home()
    assert web_kiosk.view().screen == Screen.ATTRACT and not web_kiosk.paperless


def test_kiosk_paperless_without_a_page_in_the_reply_prints_and_stops_offering(web_kiosk, web_bus, printer):
    take_printed_ticket(web_kiosk)
    web_bus.handler.page_base = None                            # the office's web was switched off
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    web_kiosk.toggle_paperless()
    web_kiosk.choose_topic("A")
    assert web_kiosk.view().screen == Screen.TICKET             # the visitor still gets a ticket
    assert len(printer.jobs) == 2
    web_kiosk.go_home()
    assert not web_kiosk.view().paperless_offered


def test_kiosk_paper_out_offers_the_phone_when_the_hub_gives_pages(web_kiosk, web_bus, printer):
    take_printed_ticket(web_kiosk)
    printer.state = PrinterState.PAPER_OUT
    web_kiosk.poll_printer()
    view = web_kiosk.view()
    assert view.screen == Screen.ATTRACT                        # not out of service: there is the phone
    assert view.banner == "Закончилась бумага для талонов. Талон можно получить без печати — на телефон."
    assert web_bus.statuses[-1]["tickets"] == "stopped"          # printed tickets are stopped
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    view = web_kiosk.view()
    assert view.paperless and not view.paperless_offered        # no choice to make: only the phone
    web_kiosk.choose_topic("A")
    assert web_kiosk.view().screen == Screen.PHONE
    assert len(printer.jobs) == 1 and len(web_bus.sent) == 2
    web_kiosk.go_home()
    web_kiosk.open_checkin()
    for digit in "4821":
        web_kiosk.press_digit(digit)
    web_kiosk.submit_checkin()                                  # «Готово»: on the phone too
    assert web_kiosk.view().screen == Screen.PHONE and len(printer.jobs) == 1


def test_kiosk_paper_out_and_the_web_gone_is_out_of_service_again(web_kiosk, web_bus, printer):
    take_printed_ticket(web_kiosk)
    printer.state = PrinterState.PAPER_OUT
    web_kiosk.poll_printer()
    web_bus.handler.page_base = None
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    web_kiosk.choose_topic("A")
    view = web_kiosk.view()
    assert view.screen == Screen.OUT_OF_SERVICE and "А016" in view.message_body  # the number, said once
    web_kiosk.go_home()
    assert web_kiosk.view().screen == Screen.OUT_OF_SERVICE


def test_kiosk_paper_out_while_printing_shows_the_code_instead(web_kiosk, printer):
    take_printed_ticket(web_kiosk)
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.PAPER_OUT
    web_kiosk.choose_topic("A")
    view = web_kiosk.view()
    assert view.screen == Screen.PHONE and view.ticket_number == "А016"
    assert view.phone_note == "Талон не удалось напечатать, поэтому он здесь, на экране."


def test_kiosk_print_failure_offers_the_phone_instead_of_a_reprint(web_kiosk, web_bus, printer):
    take_printed_ticket(web_kiosk)
    web_kiosk.begin()
    web_kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.ERROR
    web_kiosk.choose_topic("A")
    view = web_kiosk.view()
    assert view.screen == Screen.PRINT_FAILED and view.ticket_url
    web_kiosk.phone_instead()
    assert web_kiosk.view().screen == Screen.PHONE
    assert len(web_bus.sent) == 2                               # the same ticket, not a new one


def test_kiosk_phone_instead_needs_a_page(kiosk, printer):
    kiosk.begin()
    kiosk.choose_segment("b2c")
    printer.fail_next = PrinterState.ERROR
    kiosk.choose_topic("A")
    assert not kiosk.view().ticket_url
    kiosk.phone_instead()
    assert kiosk.view().screen == Screen.PRINT_FAILED


def test_kiosk_paperless_in_english_and_read_aloud(web_bus, printer, clock):
    said = []
    presenter = started_kiosk(web_bus, printer, clock, speaker=lambda sentence, lang: said.append((sentence, lang)))
    take_printed_ticket(presenter)
    presenter.switch_language()
    presenter.begin()
    presenter.choose_segment("b2c")
    view = presenter.view()
    assert view.t("paperless") == "No paper — on my phone"
    presenter.toggle_paperless()
    presenter.choose_topic("A")
    view = presenter.view()
    assert view.screen == Screen.PHONE and view.t("phone_title") == "Point your phone's camera at the code"
    presenter.speak()
    assert said[-1] == ("Point your phone's camera at the code. Your ticket: А016. Consultation. "
                        "The code for your phone is on the screen.", "en")


# --- phone pages said in state/config (office.public_url): paperless from the first visitor ---------
def config_with_pages(public_url: str | None = PAGE_BASE) -> dict:
    return {**CONFIG, "office": {**CONFIG["office"], "public_url": public_url}}


@pytest.fixture
def pages_bus():
    bus = office_bus(PAGE_BASE)
    bus.set_state("config", config_with_pages())
    return bus


def test_kiosk_offers_paperless_to_the_first_visitor_when_the_config_says_so(pages_bus, printer, clock):
    presenter = started_kiosk(pages_bus, printer, clock)
    presenter.begin()
    presenter.choose_segment("b2c")
    assert presenter.view().paperless_offered                  # no ticket issued yet
    presenter.toggle_paperless()
    presenter.choose_topic("A")
    view = presenter.view()
    assert view.screen == Screen.PHONE and view.ticket_url == f"{PAGE_BASE}/t/tok15-Xq8mVx2Lr0aZ7eKfN1sYtB"
    assert printer.jobs == []


def test_kiosk_without_paper_at_start_hands_out_phone_tickets_when_the_config_says_so(pages_bus, printer, clock):
    printer.state = PrinterState.PAPER_OUT
    presenter = started_kiosk(pages_bus, printer, clock)
    view = presenter.view()
    assert view.screen == Screen.ATTRACT
    assert view.banner == "Закончилась бумага для талонов. Талон можно получить без печати — на телефон."
    presenter.begin()
    presenter.choose_segment("b2c")
    presenter.choose_topic("A")
    assert presenter.view().screen == Screen.PHONE and printer.jobs == []


def test_kiosk_follows_the_config_when_the_office_starts_or_stops_serving_pages(bus, printer, clock):
    printer.state = PrinterState.PAPER_OUT
    presenter = started_kiosk(bus, printer, clock)
    assert presenter.view().screen == Screen.OUT_OF_SERVICE    # no paper, no pages
    bus.handler.page_base = PAGE_BASE
    bus.set_state("config", config_with_pages())               # the hub restarted with its web
    assert presenter.view().screen == Screen.ATTRACT and presenter.view().paperless
    bus.set_state("config", config_with_pages(None))          # ... and without it again
    assert presenter.view().screen == Screen.OUT_OF_SERVICE
    printer.state = PrinterState.OK
    presenter.poll_printer()
    view = presenter.view()
    assert view.screen == Screen.ATTRACT and not view.paperless_offered


def test_kiosk_without_public_url_in_the_config_still_learns_from_the_reply(web_kiosk):
    assert "public_url" not in CONFIG["office"]                 # a hub older than the field
    assert not web_kiosk.view().paperless_offered
    take_printed_ticket(web_kiosk)
    assert web_kiosk.view().paperless_offered


def test_kiosk_with_the_real_hub_offers_paperless_to_the_first_visitor(printer):
    """``hub.local.LocalHub``: the real dispatcher's ``state/config`` and ``issue`` reply."""
    from hub.local import LocalHub

    hub = LocalHub(waiting={"A": 2})
    try:
        hub.request("counter-1", "open", {"window": 1})
        presenter = KioskPresenter(hub.bus("kiosk-1"), printer)
        presenter.start()
        base = hub.states["config"]["office"]["public_url"]
        assert base == hub.dispatcher.base_url and base.startswith("http")
        assert presenter.view().paperless_offered               # before any ticket was issued
        presenter.begin()
        if presenter.view().screen == Screen.SEGMENT:
            presenter.choose_segment(presenter.view().segments[0].code)
        presenter.toggle_paperless()
        presenter.choose_topic("A")
        view = presenter.view()
        assert view.screen == Screen.PHONE and view.ticket_url.startswith(f"{base}/t/")
        assert printer.jobs == []
    finally:
        hub.close()
