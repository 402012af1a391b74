import pytest

from queue_core import errors
from queue_core.config import parse_office_config
from queue_core.model import TicketKind, TicketState, WindowState
from queue_core.office import Office

from .helpers import MONDAY_10, make_config, minutes, office_dict

T0 = MONDAY_10


@pytest.fixture
def office():
    o = Office(make_config(windows=3))
    for w in (1, 2, 3):
        o.open(w, T0)
    o.take_events()
    return o


def test_numbers_are_prefixed_padded_and_per_topic(office):
    a1, a2, r1 = office.issue("A", T0), office.issue("A", T0), office.issue("R", T0)
    assert (a1.number, a2.number, r1.number) == ("А001", "А002", "Р001")


def test_numbering_restarts_next_office_day_but_skips_numbers_still_live(office):
    office.issue("A", T0)                      # А001 still waiting at midnight
    next_day = T0 + minutes(24 * 60)
    assert office.issue("A", next_day).number == "А002"   # А001 is live: never two А001 at once
    assert office.issue("A", next_day).number == "А003"


def test_office_day_is_local_not_utc():
    o = Office(make_config())
    late = T0.replace(hour=23, minute=30)   # 18:30 UTC, same local day; 00:30 local is next day
    assert o.local_day(late) == "2026-11-23"
    assert o.local_day(late + minutes(60)) == "2026-11-24"


def test_full_lifecycle_records_timings(office):
    t = office.issue("A", T0)
    assert office.call_next(1, T0 + minutes(3)) is t
    office.recall(1, T0 + minutes(4))
    office.start(1, T0 + minutes(5))
    office.finish(1, T0 + minutes(9))
    leg = t.leg
    assert t.state is TicketState.DONE and leg.recalls == 1
    assert (leg.called_at - t.issued_at, leg.finished_at - leg.started_at) == (minutes(3), minutes(4))
    assert t.number not in office.tickets


def test_done_requires_start_when_the_office_uses_the_start_step(office):
    assert office.config.start_step
    t = office.issue("A", T0)
    office.call_next(1, T0 + minutes(1))
    before = office.digest()
    with pytest.raises(errors.IllegalTransition, match="before Start"):
        office.finish(1, T0 + minutes(6))
    assert office.digest() == before and "finish" not in office.allowed_actions(1)
    office.start(1, T0 + minutes(2))
    assert "finish" in office.allowed_actions(1)
    assert office.finish(1, T0 + minutes(6)) is t


def test_without_the_start_step_done_follows_the_call_and_start_is_refused():
    o = Office(make_config(windows=3, start_step=False))
    o.open(1, T0)
    t = o.issue("A", T0)
    o.call_next(1, T0 + minutes(1))
    assert o.allowed_actions(1) == ("recall", "finish", "no_show", "transfer")
    with pytest.raises(errors.IllegalTransition, match="Start step"):
        o.start(1, T0 + minutes(2))
    o.finish(1, T0 + minutes(6))
    assert t.leg.started_at == t.leg.called_at


@pytest.mark.parametrize("setup, window, expected", [
    (lambda o: None, 1, ("call_next", "pause", "close")),
    (lambda o: o.close(1, T0), 1, ("open",)),
    (lambda o: o.pause(1, "lunch", T0), 1, ("close", "open")),
    (lambda o: (o.issue("A", T0), o.call_next(1, T0)), 1, ("recall", "start", "no_show", "transfer")),
    (lambda o: (o.issue("A", T0), o.call_next(1, T0), o.start(1, T0)), 1, ("finish", "transfer")),
    (lambda o: (o.pause(1, "lunch", T0), o.pause(2, "rest", T0)), 3, ("call_next",)),  # last open one (004:1130)
])
def test_allowed_actions_follow_the_window(office, setup, window, expected):
    setup(office)
    assert office.allowed_actions(window) == expected


def test_allowed_actions_of_an_unknown_window_is_an_error(office):
    with pytest.raises(errors.UnknownWindow):
        office.allowed_actions(42)


def test_a_paused_window_is_not_paused_again(office):
    office.pause(1, "lunch", T0)
    with pytest.raises(errors.IllegalTransition, match="already on a break"):
        office.pause(1, "rest", T0)


@pytest.mark.parametrize("action", ["recall", "start", "finish", "no_show"])
def test_acting_without_a_ticket_is_refused_and_changes_nothing(office, action):
    before = office.digest()
    with pytest.raises(errors.NoTicket):
        getattr(office, action)(1, T0)
    assert office.digest() == before


def test_finish_a_ticket_never_called_is_refused(office):
    office.issue("A", T0)
    with pytest.raises(errors.NoTicket, match="window 1 holds no ticket"):
        office.finish(1, T0)


def test_call_from_closed_window_is_refused(office):
    office.close(2, T0)
    office.issue("A", T0)
    before = office.digest()
    with pytest.raises(errors.WindowClosed, match="window 2 is closed"):
        office.call_next(2, T0)
    assert office.digest() == before


def test_no_break_while_serving(office):
    office.issue("A", T0)
    office.call_next(1, T0)
    with pytest.raises(errors.BreakNotAllowed, match="no break while serving"):
        office.pause(1, "lunch", T0)
    assert office.windows[1].state is WindowState.OPEN


def test_not_all_windows_on_break_when_more_than_two(office):
    office.pause(1, "lunch", T0)
    office.pause(2, "technical", T0)
    with pytest.raises(errors.BreakNotAllowed, match="last open one"):
        office.pause(3, "rest", T0)


def test_the_last_open_window_is_not_closed_during_working_hours(office):
    """004:1130-1132: with windows 1 and 2 at lunch, closing 3 is refused like a break."""
    office.pause(1, "lunch", T0)
    office.pause(2, "lunch", T0)
    before = office.digest()
    with pytest.raises(errors.BreakNotAllowed, match="last open one"):
        office.close(3, T0)
    assert office.digest() == before
    assert "close" not in office.allowed_actions(3, T0)
    assert "close" in office.allowed_actions(1, T0)        # a window on a break may still close


def test_the_last_open_window_closes_after_hours(office):
    office.close(1, T0)
    office.close(2, T0)
    evening = T0.replace(hour=20, minute=5)                # the office works 08:00-20:00
    assert "close" not in office.allowed_actions(3, T0)
    assert "close" in office.allowed_actions(3, evening)
    assert office.close(3, evening).state is WindowState.CLOSED


def test_the_last_open_window_closes_in_an_office_wide_break():
    data = office_dict(windows=3)
    data["calendar"]["breaks"] = ["13:00-14:00"]
    o = Office(parse_office_config(data))
    o.open(3, T0)
    with pytest.raises(errors.BreakNotAllowed):
        o.close(3, T0)
    assert o.close(3, T0.replace(hour=13, minute=10)).state is WindowState.CLOSED


def test_two_windows_may_both_close_in_working_hours():
    o = Office(make_config(windows=2))
    for w in (1, 2):
        o.open(w, T0)
    o.close(1, T0)
    assert o.close(2, T0).state is WindowState.CLOSED


def test_two_windows_may_both_break():
    o = Office(make_config(windows=2))
    for w in (1, 2):
        o.open(w, T0)
    o.pause(1, "lunch", T0)
    assert o.pause(2, "lunch", T0).state is WindowState.PAUSED


def test_unknown_topic_and_window_are_named(office):
    with pytest.raises(errors.UnknownTopic, match="'Z'"):
        office.issue("Z", T0)
    with pytest.raises(errors.UnknownWindow, match="42"):
        office.call_next(42, T0)


def test_window_cannot_call_twice_without_finishing(office):
    office.issue("A", T0)
    office.issue("A", T0)
    office.call_next(1, T0)
    with pytest.raises(errors.WindowBusy):
        office.call_next(1, T0)


def test_no_show_frees_the_window(office):
    t = office.issue("A", T0)
    office.call_next(1, T0)
    office.no_show(1, T0 + minutes(2))
    assert t.state is TicketState.NO_SHOW and office.windows[1].ticket is None


def test_transfer_keeps_number_and_issue_time_and_starts_a_leg(office):
    t = office.issue("A", T0)
    office.call_next(1, T0 + minutes(2))
    office.start(1, T0 + minutes(3))
    office.transfer(1, T0 + minutes(5), topic="R")
    assert t.state is TicketState.WAITING and t.topic == "R" and len(t.legs) == 2
    assert t.legs[0].outcome == "transferred" and t.issued_at == T0
    assert office.call_next(2, T0 + minutes(6)) is t


def test_transfer_to_window_only_that_window_may_call(office):
    office.issue("A", T0)
    t = office.issue("A", T0 + minutes(1))
    office.call_next(1, T0 + minutes(2))      # А001
    office.call_next(2, T0 + minutes(2))      # А002
    office.transfer(2, T0 + minutes(3), to_window=3)
    office.start(1, T0 + minutes(3))
    office.finish(1, T0 + minutes(3))
    assert office.call_next(1, T0 + minutes(4)) is None
    assert office.call_next(3, T0 + minutes(4)) is t


def test_priority_first_but_at_most_k_in_a_row():
    o = Office(make_config(windows=1, priority_max_in_row=2))
    o.open(1, T0)
    walk = o.issue("A", T0)
    prio = [o.issue("A", T0 + minutes(i + 1), TicketKind.PRIORITY) for i in range(3)]
    order = []
    for i in range(4):
        order.append(o.call_next(1, T0 + minutes(10 + i)).number)
        o.start(1, T0 + minutes(10 + i))
        o.finish(1, T0 + minutes(10 + i))
    assert order == [prio[0].number, prio[1].number, walk.number, prio[2].number]


def _serve_all(o, start):
    order = []
    for i in range(len(o.waiting())):
        order.append(o.call_next(1, start + minutes(i)).number)
        o.start(1, start + minutes(i))
        o.finish(1, start + minutes(i))
    return order


def test_without_interleave_a_priority_ticket_never_waits_behind_a_walk_in():
    """ОЭК (001:375-377): disabled clients are served out of turn; ``priority_max_in_row = 0``."""
    o = Office(make_config(windows=1, priority_max_in_row=0))
    o.open(1, T0)
    walk = o.issue("A", T0)
    prio = [o.issue("A", T0 + minutes(i + 1), TicketKind.PRIORITY) for i in range(5)]
    assert _serve_all(o, T0 + minutes(10)) == [p.number for p in prio] + [walk.number]


def test_the_oek_profile_serves_priority_out_of_turn_without_interleave():
    data = office_dict(windows=1)
    data["office"]["profile"] = "oek"
    data["topics"] = [{"code": "A", "form": "contracts"}]
    data["windows"] = [{"number": 1, "topics": ["A"]}]
    o = Office(parse_office_config(data))
    o.open(1, T0)
    walks = [o.issue("A", T0 + minutes(i)) for i in range(2)]
    prio = [o.issue("A", T0 + minutes(5 + i), TicketKind.PRIORITY) for i in range(4)]
    assert all(not p.assisted for p in prio)
    assert _serve_all(o, T0 + minutes(10)) == [p.number for p in prio + walks]


@pytest.mark.parametrize("mode", ["individual", "call_staff"])
def test_assisted_modes_mark_the_ticket_and_keep_its_turn(mode):
    """АтомЭнергоСбыт (004:945-949): an individual, assisted format, not queue-jumping."""
    data = office_dict(windows=1)
    data["priority"] = {"mode": mode}
    o = Office(parse_office_config(data))
    o.open(1, T0)
    walk = o.issue("A", T0)
    prio = o.issue("A", T0 + minutes(1), TicketKind.PRIORITY, category="veteran")
    assert prio.assisted and not walk.assisted and prio.people_ahead == 1
    events, _ = o.take_events()
    assert events[-1].data["assisted"] is True and events[-2].data["assisted"] is False
    assert Office.replay(o.config, events).tickets[prio.number].assisted
    assert _serve_all(o, T0 + minutes(10)) == [walk.number, prio.number]


def test_due_booking_goes_before_walk_ins(office):
    walk = office.issue("A", T0)
    booked = office.check_in("A", T0 + minutes(5), "1234", T0 + minutes(1))
    assert office.call_next(1, T0 + minutes(2)) is walk          # booking not due yet
    office.start(1, T0 + minutes(3))
    office.finish(1, T0 + minutes(3))
    later = office.issue("A", T0 + minutes(4))
    assert office.call_next(1, T0 + minutes(6)) is booked        # due now, ahead of `later`
    assert later.state is TicketState.WAITING


def test_booking_check_in_window(office):
    with pytest.raises(errors.BookingTooEarly):
        office.check_in("A", T0 + minutes(120), "1", T0)
    with pytest.raises(errors.BookingTooLate):
        office.check_in("A", T0 - minutes(60), "2", T0)


def test_booking_wait_counts_from_slot_start(office):
    t = office.check_in("A", T0 + minutes(10), "5", T0)
    assert t.wait_from() == T0 + minutes(10)


def test_norm_aware_prefers_the_topic_further_past_its_norm():
    o = Office(make_config(windows=1, policy="norm_aware"))
    o.open(1, T0)
    r = o.issue("R", T0)                 # wait norm 15: at T0+12 it is 0.8 of norm
    a = o.issue("A", T0 + minutes(3))    # wait norm 10: at T0+12 it is 0.9 of norm
    assert o.call_next(1, T0 + minutes(12)) is a
    assert r.state is TicketState.WAITING


def test_fifo_calls_in_issue_order_across_topics():
    o = Office(make_config(windows=1, policy="fifo"))
    o.open(1, T0)
    r = o.issue("R", T0)
    o.issue("A", T0 + minutes(3))
    assert o.call_next(1, T0 + minutes(12)) is r


def test_cancel_only_waiting(office):
    t = office.issue("A", T0)
    office.call_next(1, T0)
    with pytest.raises(errors.IllegalTransition):
        office.cancel(t.number, T0)
    u = office.issue("A", T0)
    assert office.cancel(u.number, T0).state is TicketState.CANCELLED


def test_rating_only_for_the_ticket_just_finished(office):
    t = office.issue("A", T0)
    office.call_next(1, T0)
    with pytest.raises(errors.NoTicket):
        office.rate(1, t.number, 5, T0)
    office.start(1, T0 + minutes(1))
    office.finish(1, T0 + minutes(1))
    with pytest.raises(errors.IllegalTransition):
        office.rate(1, t.number, 6, T0)
    assert office.rate(1, t.number, 5, T0).rating == 5
    with pytest.raises(errors.IllegalTransition, match="already rated"):
        office.rate(1, t.number, 4, T0)


def test_kiosk_refuses_outside_hours_and_after_cutoff():
    data = office_dict()
    data["topics"][0]["cutoff"] = "16:30"
    data["calendar"] = {"hours": {"mon": "08:00-17:00"}, "breaks": ["12:00-13:00"]}
    o = Office(parse_office_config(data))
    o.open(1, T0)
    assert o.accepting("A", T0) == (True, None)
    assert o.accepting("A", T0.replace(hour=16, minute=45)) == (False, "cutoff")
    assert o.accepting("R", T0.replace(hour=18)) == (False, "closed")
    with pytest.raises(errors.TopicClosed, match="closed"):
        o.issue("R", T0.replace(hour=7))


def test_no_open_window_for_topic_means_not_accepting(office):
    for w in (1, 2):
        office.close(w, T0)
    office.close(3, T0.replace(hour=20, minute=1))        # the last open one closes after hours (004:1130)
    assert office.accepting("A", T0) == (False, "no_window")


def test_estimate_grows_with_people_ahead(office):
    etas = [office.issue("R", T0).eta_min for _ in range(8)]
    assert etas[:3] == [0.0, 0.0, 0.0]          # three open windows, nobody busy
    assert etas[3] > 0 and etas == sorted(etas)
    assert [office.tickets[n].people_ahead for n in ("Р001", "Р005")] == [0, 4]


def test_estimate_is_none_when_no_window_serves(office):
    for w in (1, 2, 3):
        office.pause(w, "lunch", T0) if w < 3 else office.close(w, T0.replace(hour=20, minute=1))
    assert office.estimate("A")[1] is None


def test_replay_reproduces_state(office):
    office.issue("A", T0)
    office.issue("R", T0)
    office.call_next(1, T0 + minutes(1))
    office.transfer(1, T0 + minutes(2), topic="C")
    events, _ = office.take_events()
    copy = Office(office.config, seq=events[0].seq - 1)
    for e in events:
        copy.apply(e)
    assert copy.digest()["tickets"] == office.digest()["tickets"]


def test_out_of_order_event_is_refused(office):
    office.issue("A", T0)
    (e,), _ = office.take_events()
    fresh = Office(office.config)
    with pytest.raises(errors.IllegalTransition, match="does not follow"):
        fresh.apply(e)


def test_a_waiting_visitor_leaves_and_the_people_behind_move_up(office):
    first, second = office.issue("A", T0), office.issue("A", T0)
    office.take_events()
    left = office.leave(first.number, T0 + minutes(2))
    assert (left.state, left.leg.outcome, left.leg.finished_at) == (TicketState.CANCELLED, "left", T0 + minutes(2))
    [event] = office.take_events()[0]
    assert (event.kind, event.ticket, event.topic) == ("left", first.number, "A")
    assert first.number not in office.tickets
    assert office.estimate("A")[0] == 1                      # only the second is ahead of a newcomer
    assert office.call_next(1, T0 + minutes(3)) is second    # the next call skips the one who left


def test_leaving_is_refused_once_called_with_the_window_named(office):
    t = office.issue("A", T0)
    office.call_next(2, T0)
    for then, words in ((None, "пригласили к окну 2"), ("start", "обслуживают в окне 2")):
        if then:
            getattr(office, then)(2, T0)
        before = office.digest()
        with pytest.raises(errors.IllegalTransition) as info:
            office.leave(t.number, T0)
        assert words in info.value.message_ru
        assert office.digest() == before                     # a refusal changes nothing
    with pytest.raises(errors.UnknownTicket):
        office.leave("А999", T0)


def test_a_transferred_visitor_waiting_again_may_leave(office):
    t = office.issue("A", T0)
    office.call_next(1, T0)
    office.transfer(1, T0 + minutes(1), topic="R")
    assert office.leave(t.number, T0 + minutes(2)).legs[-1].outcome == "left"
    assert t.legs[0].outcome == "transferred"


def test_leaving_replays_from_the_event_log():
    office, log = Office(make_config()), []
    office.open(1, T0)
    t, u = office.issue("A", T0), office.issue("A", T0)
    office.leave(t.number, T0 + minutes(1))
    log += office.take_events()[0]
    replayed = Office.replay(office.config, log)
    assert replayed.digest() == office.digest() and list(replayed.tickets) == [u.number]
