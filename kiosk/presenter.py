"""Everything the kiosk does, as plain Python (no Kivy): screens, taps, timeouts, printing.

The presenter is single-threaded: the app calls it from one worker thread (bus callbacks
included) and redraws from the immutable :class:`KioskView` it hands to listeners.

Rules it keeps:
* a ticket is printed only when the hub issued it (``issue``/``checkin`` replied ok);
* the printer is checked *before* asking the hub, so no ticket is issued that cannot
  be printed; when printing still fails the number stays on screen with a reprint;
* «Без печати — на телефон» (or a printer that cannot print, when the hub serves the
  visitors' phone pages: ``state/config`` ``office.public_url``, or, from a hub older than
  that field, a reply that carried ``Ticket.url``): the ticket is issued as usual, nothing
  is printed, and the screen shows the QR code of the ticket's page (``Ticket.url``);
* a refused or unanswered command leaves nothing half-done and says why, politely;
* an unanswered ``issue``/``checkin`` is kept with its command id: «Повторить», or the
  visitor tapping the same topic/code again, re-sends it with the SAME id, so a hub that
  did store the first one answers with that ticket instead of issuing a second number.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from broker.bus import Bus, Post, direct
from broker.errors import CommandError, HubUnreachable
from broker.messages import new_id
from broker.views import ConfigState, QueueState, Ticket, ViewError
from hardware.printer import PrinterError, PrinterState
from hardware.printer_ticket import TicketLayout, eta_minutes
from kiosk import office, speech
from kiosk.office import Choice
from kiosk.strings import LANGUAGES, text

log = logging.getLogger(__name__)

BOOKING_REFUSALS = {"booking_not_found": "booking_not_found", "booking_too_early": "booking_too_early",
                    "booking_too_late": "booking_too_late"}
PRINTER_PROBLEM_KEYS = {PrinterState.PAPER_OUT: "printer_paper_out",
                        PrinterState.COVER_OPEN: "printer_cover_open",
                        PrinterState.OFFLINE: "printer_offline", PrinterState.ERROR: "printer_error"}
MAX_BOOKING_CODE = 12
NEEDS_STAFF = (PrinterState.PAPER_OUT, PrinterState.COVER_OPEN)  # no «Напечатать ещё раз» then


class Screen(str, Enum):
    ATTRACT = "attract"
    SEGMENT = "segment"
    TOPICS = "topics"
    CHECKIN = "checkin"
    PRIORITY = "priority"
    PRINTING = "printing"
    TICKET = "ticket"
    PRINT_FAILED = "print_failed"
    PHONE = "phone"               # the ticket's QR code on screen instead of paper
    MESSAGE = "message"
    UNREACHABLE = "unreachable"   # the hub did not answer: «Повторить» / «Вызов персонала»
    OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class KioskOptions:
    ticket_display_s: float = 8.0     # «Возьмите, пожалуйста, талон», then back to start
    phone_display_s: float = 30.0     # the QR code on screen: time to open the camera, not much more
                                      # (the next visitor must not scan someone else's ticket)
    message_display_s: float = 15.0   # refusals and errors
    idle_timeout_s: float = 45.0      # nobody touched the screen
    request_timeout_s: float = 3.0    # the issue: "hub unreachable" said politely within 3 s
    lang: str = "ru"
    device_version: str = "0.1.0"
    large_print: bool = False         # every ticket in large print (else only in the large-text mode)


@dataclass(frozen=True)
class KioskView:
    """What the screen shows now; every text already in the chosen language."""

    screen: Screen
    lang: str
    office_name: str
    greeting: str
    clock: str
    banner: str
    segments: tuple[Choice, ...] = ()
    topics: tuple[Choice, ...] = ()
    topics_title: str = ""
    priority_categories: tuple[Choice, ...] = ()
    checkin_code: str = ""
    message_title: str = ""
    message_body: str = ""
    ticket_number: str = ""
    ticket_topic: str = ""
    ticket_lines: tuple[str, ...] = ()
    ticket_url: str = ""              # the ticket's live page (the QR code on the phone screen)
    phone_note: str = ""              # why the ticket is on the screen when the visitor wanted paper
    paperless_offered: bool = False   # «Без печати — на телефон» is a choice now
    paperless: bool = False           # this ticket will not be printed (chosen, or no paper)
    large_text: bool = False          # high-contrast large-text mode

    def t(self, key: str) -> str:
        """A fixed string in the view's language (the KV file uses this for labels)."""
        return text(self.lang, key)


class KioskPresenter:
    def __init__(self, bus: Bus, printer, *, options: KioskOptions = KioskOptions(),
                 monotonic: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 speaker: Callable[[str, str], None] | None = None):
        self.bus = bus
        self.speaker = speaker            # speaker(text, lang): read aloud (the board's voice)
        self.large_text = False
        self.voice_used = False           # this visitor asked for «Озвучить»: say the ticket too
        self.printer = printer
        self.options = options
        self._monotonic = monotonic
        self._now = now
        self._listeners: list[Callable[[KioskView], None]] = []
        self.config = ConfigState()
        self.queue = QueueState()
        self.connected = bool(getattr(bus, "connected", False))
        self.lang = options.lang
        self.screen = Screen.ATTRACT
        self.printer_state = PrinterState.UNKNOWN
        self.segment: str | None = None
        self.priority_category: str | None = None
        self.checkin_code = ""
        self.message = ("", "")
        self.ticket_layout: TicketLayout | None = None
        self._reply_pages = False         # the hub's last ticket had a page (url): paperless is possible
        self.paperless = False            # this visitor chose «Без печати — на телефон»
        self.phone_note = ""
        self.pending: tuple[str, dict, str] | None = None   # (op, args, command id) not answered yet
        self._screen_since = monotonic()
        self._last_touch = monotonic()
        self._last_view: KioskView | None = None

    # --- wiring ----------------------------------------------------------------------
    def on_change(self, listener: Callable[[KioskView], None]) -> None:
        self._listeners.append(listener)

    def start(self, post: Post = direct) -> None:
        """Subscribe to the hub's state; ``post(fn, *args)`` moves callbacks to our thread."""
        self.bus.on_connection(lambda connected: post(self.on_connection, connected))
        self.bus.watch_state("config", lambda payload: post(self.on_config, payload))
        self.bus.watch_state("queue", lambda payload: post(self.on_queue, payload))
        self.poll_printer(force_publish=True)

    def on_connection(self, connected: bool) -> None:
        self.connected = connected
        self._changed()

    def on_config(self, payload: dict) -> None:
        try:
            self.config = ConfigState.from_payload(payload or {})
        except ViewError as exc:
            log.warning("ignoring malformed state/config: %s", exc)
            return
        if self.lang not in self.languages:
            self.lang = self.languages[0]
        self._check_service()
        self._changed()

    def on_queue(self, payload: dict) -> None:
        try:
            self.queue = QueueState.from_payload(payload or {})
        except ViewError as exc:
            log.warning("ignoring malformed state/queue: %s", exc)
            return
        self._changed()

    @property
    def languages(self) -> tuple[str, ...]:
        configured = self.config.office.languages or LANGUAGES
        return tuple(lang for lang in configured if lang in LANGUAGES) or ("ru",)

    # --- printer health -----------------------------------------------------------------
    @property
    def tickets_stopped(self) -> bool:
        """No printed tickets: the printer cannot print."""
        return not self.printer_state.can_print

    @property
    def phone_pages(self) -> bool:
        """The hub serves the tickets' phone pages: said in ``state/config`` from the start,
        or shown by its last reply (a hub that does not publish ``office.public_url``)."""
        return self.config.office.phone_pages or self._reply_pages

    @property
    def can_issue(self) -> bool:
        """A ticket can be handed out: on paper, or on the phone when the hub serves its page."""
        return not self.tickets_stopped or self.phone_pages

    def poll_printer(self, force_publish: bool = False) -> PrinterState:
        """Read the printer now (the app calls this every few seconds when idle)."""
        self._set_printer_state(self.printer.status(), force_publish)
        return self.printer_state

    def _set_printer_state(self, state: PrinterState, force_publish: bool = False) -> None:
        was_stopped, changed = self.tickets_stopped, state != self.printer_state
        self.printer_state = state
        if changed or force_publish:
            self.publish_status()
        self._check_service(was_stopped)
        self._changed()

    def _check_service(self, was_stopped: bool = True) -> None:
        """Out of service when no ticket can be handed out; back to the start when one can
        again (paper put in, or the hub now says it serves phone pages)."""
        if not self.can_issue and self.screen in (Screen.ATTRACT, Screen.SEGMENT, Screen.TOPICS,
                                                  Screen.CHECKIN, Screen.PRIORITY):
            self._go(Screen.OUT_OF_SERVICE)
        elif self.screen == Screen.OUT_OF_SERVICE and self.can_issue and (
                (was_stopped and not self.tickets_stopped)   # the printer prints again
                or self.ticket_layout is None):              # no issued number on show: phone tickets now
            self.ticket_layout = None
            self._go(Screen.ATTRACT)

    def publish_status(self, **extra) -> None:
        detail = (text("ru", PRINTER_PROBLEM_KEYS[self.printer_state])
                  if self.printer_state in PRINTER_PROBLEM_KEYS else None)
        status = {"printer": {"state": self.printer_state.value, "detail": detail},
                  "tickets": "stopped" if self.tickets_stopped else "accepting"}
        status.update(extra)
        self.bus.publish_status(status)

    # --- taps ------------------------------------------------------------------------------
    def touch(self) -> None:
        self._last_touch = self._monotonic()

    def begin(self) -> None:
        """The visitor touched the welcome screen."""
        self.touch()
        if not self._ready_to_issue():
            return
        if len(office.segment_choices(self.config, self.lang)) > 1:
            self._go(Screen.SEGMENT)
        else:
            self._go(Screen.TOPICS)

    def choose_segment(self, code: str) -> None:
        self.touch()
        self.segment = code
        self._go(Screen.TOPICS)

    def choose_topic(self, code: str) -> None:
        self.touch()
        choice = next((c for c in self._topics() if c.code == code), None)
        if choice is None:
            return
        if not choice.enabled:
            self._show_message(text(self.lang, "sorry"), choice.detail)
            return
        args = {"topic": code, "kind": "walk_in"}
        if self.priority_category is not None:
            args.update(kind="priority", category=self.priority_category)
        if self.segment:
            args["segment"] = self.segment
        self._issue("issue", args)

    def open_checkin(self) -> None:
        self.touch()
        if self._ready_to_issue():
            self.checkin_code = ""
            self._go(Screen.CHECKIN)

    def press_digit(self, digit: str) -> None:
        self.touch()
        if digit.isdigit() and len(digit) == 1 and len(self.checkin_code) < MAX_BOOKING_CODE:
            self.checkin_code += digit
            self._changed()

    def erase_digit(self) -> None:
        self.touch()
        self.checkin_code = self.checkin_code[:-1]
        self._changed()

    def submit_checkin(self, paperless: bool = False) -> None:
        """«Готово», or «Без печати — на телефон» (``paperless``) under the keypad."""
        self.touch()
        if self.checkin_code:
            self.paperless = bool(paperless) and self.phone_pages
            self._issue("checkin", {"code": self.checkin_code})

    def toggle_paperless(self) -> None:
        """«Без печати — на телефон» on the topic screen: the next topic tapped is not printed."""
        self.touch()
        if self.phone_pages:
            self.paperless = not self.paperless
            self._changed()

    def phone_instead(self) -> None:
        """The ticket could not be printed: show its QR code instead (when it has a page)."""
        self.touch()
        layout = self.ticket_layout
        if layout is not None and layout.live_page and self.screen == Screen.PRINT_FAILED:
            self._show_phone(layout)

    def open_priority(self) -> None:
        self.touch()
        if self._ready_to_issue():
            self._go(Screen.PRIORITY)

    def choose_priority_category(self, code: str) -> None:
        self.touch()
        self.priority_category = code
        self._go(Screen.TOPICS)

    def reprint(self) -> None:
        self.touch()
        if self.ticket_layout is not None and self.screen == Screen.PRINT_FAILED:
            self._print(self.ticket_layout)

    def retry(self) -> None:
        """«Повторить» on the unreachable screen: the same command with the same id."""
        self.touch()
        if self.pending is not None:
            op, args, _ = self.pending
            self._issue(op, args)

    def call_staff(self) -> None:
        self.touch()
        self.publish_status(help_requested_at=self._now().isoformat(timespec="seconds"))
        self._show_message(text(self.lang, "help_called_title"), text(self.lang, "help_called_body"))

    def toggle_large_text(self) -> None:
        """High contrast and large type (and a large-print ticket) for this visitor."""
        self.touch()
        self.large_text = not self.large_text
        self._changed()

    def speak(self) -> None:
        """«Озвучить»: read the screen aloud; after printing, the ticket number too."""
        self.touch()
        self.voice_used = True
        self._say(speech.screen_text(self.view()))

    def _say(self, sentence: str) -> None:
        if self.speaker is None or not sentence:
            return
        try:
            self.speaker(sentence, self.lang)
        except Exception:  # the voice is a help, never a reason to fail a ticket
            log.exception("the kiosk voice failed")

    def switch_language(self) -> None:
        self.touch()
        languages = self.languages
        self.lang = languages[(languages.index(self.lang) + 1) % len(languages)] \
            if self.lang in languages else languages[0]
        self._changed()

    def back(self) -> None:
        self.touch()
        if self.screen == Screen.TOPICS and self.priority_category is not None:
            self.priority_category = None
            self._go(Screen.PRIORITY)
        elif self.screen == Screen.TOPICS and self.segment is not None:
            self.segment = None
            self._go(Screen.SEGMENT)
        else:
            self.go_home()

    def go_home(self) -> None:
        """Back to the welcome screen, forgetting this visitor's choices."""
        self.segment = self.priority_category = None
        self.checkin_code = ""
        self.ticket_layout = None
        self.large_text = self.voice_used = self.paperless = False
        self.phone_note = ""
        self.lang = self.options.lang if self.options.lang in self.languages else self.languages[0]
        self._go(Screen.ATTRACT if self.can_issue else Screen.OUT_OF_SERVICE)

    def tick(self) -> None:
        """Called about once a second: timeouts back to the start, and the clock."""
        now = self._monotonic()
        on_screen, idle = now - self._screen_since, now - self._last_touch
        if (self.screen == Screen.TICKET and on_screen >= self.options.ticket_display_s) \
                or (self.screen == Screen.PHONE and on_screen >= self.options.phone_display_s) \
                or (self.screen == Screen.MESSAGE and on_screen >= self.options.message_display_s) \
                or (self.screen not in (Screen.ATTRACT, Screen.OUT_OF_SERVICE, Screen.PRINTING)
                    and idle >= self.options.idle_timeout_s):
            self.pending = None  # this visitor has gone: the next one starts afresh
            self.go_home()
        elif self.screen == Screen.OUT_OF_SERVICE and self.ticket_layout is not None \
                and on_screen >= self.options.idle_timeout_s:
            self.ticket_layout = None  # the number shown after paper ran out: that visitor has gone
            self._changed()
        else:
            self._changed()  # the clock and the greeting follow the time

    # --- issuing and printing ------------------------------------------------------------
    def _ready_to_issue(self) -> bool:
        if not self.connected:
            self._show_message(text(self.lang, "sorry"), text(self.lang, "hub_unreachable"))
            return False
        if not self.can_issue:
            self._go(Screen.OUT_OF_SERVICE)
            return False
        return True

    def _issue(self, op: str, args: dict) -> None:
        self.poll_printer()  # never let the hub issue a ticket this printer cannot print
        if not self.can_issue:
            self._go(Screen.OUT_OF_SERVICE)
            return
        paperless = self.paperless or self.tickets_stopped
        pending = self.pending
        request_id = pending[2] if pending is not None and pending[:2] == (op, args) else new_id()
        self.pending = (op, args, request_id)
        if not self.connected:
            self._show_unreachable()
            return
        self._go(Screen.PRINTING)
        try:
            reply = self.bus.request(op, args, timeout=self.options.request_timeout_s, request_id=request_id)
        except HubUnreachable:
            self._show_unreachable()
            return
        except CommandError as refusal:
            self.pending = None
            self._show_message(text(self.lang, "sorry"), self._refusal_text(refusal))
            return
        self.pending = None
        try:
            ticket = Ticket.from_payload(reply.get("ticket"))
        except ViewError as exc:
            log.error("the hub's %s reply has no usable ticket: %s", op, exc)
            self._show_message(text(self.lang, "sorry"), text(self.lang, "error_generic"))
            return
        self._reply_pages = bool(ticket.url)  # a hub without the web: no paperless choice from now on
        layout = office.ticket_layout(ticket, self.config, self.lang, self._now())
        if self.large_text or self.options.large_print:
            layout = dataclasses.replace(layout, large_print=True)
        if paperless and layout.live_page:
            self._show_phone(layout)
        else:  # printed; a paperless ticket without a page is printed all the same if it can be
            self._print(layout)

    def _refusal_text(self, refusal: CommandError) -> str:
        if refusal.code in BOOKING_REFUSALS:
            return text(self.lang, BOOKING_REFUSALS[refusal.code])
        hub_text = refusal.message_en if self.lang == "en" else refusal.message
        if refusal.code == "topic_closed":
            return hub_text or text(self.lang, "topic_closed")
        log.warning("hub refused: %s", refusal)
        return hub_text or text(self.lang, "error_generic")

    def _print(self, layout: TicketLayout) -> None:
        self.ticket_layout = layout
        try:
            state = self.printer.print_ticket(layout)
        except PrinterError as failure:
            log.error("ticket %s issued but not printed: %s", layout.number, failure)
            self._set_printer_state(failure.state)
            if failure.state in NEEDS_STAFF and layout.live_page:
                # No paper, but the ticket has its page: its QR code on the screen instead.
                self._show_phone(layout, text(self.lang, "paper_failed_phone"))
                return
            # No paper (or the cover open): nothing the visitor can do here, so only the
            # out-of-service screen, with the number that is already in the queue.
            self._go(Screen.OUT_OF_SERVICE if failure.state in NEEDS_STAFF else Screen.PRINT_FAILED)
            return
        self._set_printer_state(state)
        self._go(Screen.TICKET)
        if self.voice_used:
            self._say(speech.ticket_text(layout))

    def _show_phone(self, layout: TicketLayout, note: str = "") -> None:
        self.ticket_layout = layout
        self.phone_note = note
        self._go(Screen.PHONE)
        if self.voice_used:
            self._say(speech.ticket_text(layout))

    # --- the view ----------------------------------------------------------------------------
    def _topics(self) -> list[Choice]:
        return office.topic_choices(self.config, self.queue, self.lang, self.segment)

    def _show_unreachable(self) -> None:
        self.message = (text(self.lang, "sorry"), text(self.lang, "hub_unreachable_retry"))
        self._go(Screen.UNREACHABLE)

    def _show_message(self, title: str, body: str) -> None:
        self.message = (title, body)
        self._go(Screen.MESSAGE)

    def _go(self, screen: Screen) -> None:
        if screen != self.screen:
            self.screen = screen
            self._screen_since = self._monotonic()
        self._changed()

    def _ticket_lines(self) -> tuple[str, ...]:
        layout = self.ticket_layout
        if layout is None:
            return ()
        lines = []
        if layout.priority:
            lines.append(text(self.lang, "priority"))
        if layout.assisted:
            lines.append(text(self.lang, "assisted"))
        if layout.booking_time:
            lines.append(text(self.lang, "booking_at", time=layout.booking_time))
        if layout.people_ahead is not None:
            lines.append(text(self.lang, "people_ahead", n=layout.people_ahead))
        if layout.eta_min is not None:
            lines.append(text(self.lang, "eta", m=eta_minutes(layout.eta_min)))
        lines.append(text(self.lang, "please_wait"))
        return tuple(lines)

    def _banner(self) -> str:
        if not self.connected:
            return text(self.lang, "offline_banner")
        if self.tickets_stopped:
            problem = text(self.lang, PRINTER_PROBLEM_KEYS.get(self.printer_state, "printer_error"))
            return f"{problem} {text(self.lang, 'paperless_only')}" if self.phone_pages else problem
        return ""

    def view(self) -> KioskView:
        now = office.office_now(self.config, self._now())
        title_key = "choose_topic_priority" if self.priority_category is not None else "choose_topic"
        message = self.message
        if self.screen == Screen.OUT_OF_SERVICE:
            issued = (text(self.lang, "out_of_service_number", number=self.ticket_layout.number)
                      if self.ticket_layout is not None else "")
            message = (text(self.lang, "out_of_service_title"),
                       " ".join(p for p in (self._banner(), issued, text(self.lang, "out_of_service_body")) if p))
        layout = self.ticket_layout
        return KioskView(
            screen=self.screen, lang=self.lang,
            office_name=office.office_name(self.config, self.lang),
            greeting=text(self.lang, office.greeting_key(now.hour)),
            clock=now.strftime("%H:%M"), banner=self._banner(),
            segments=tuple(office.segment_choices(self.config, self.lang)),
            topics=tuple(self._topics()), topics_title=text(self.lang, title_key),
            priority_categories=tuple(office.priority_choices(self.config, self.lang)),
            checkin_code=self.checkin_code,
            message_title=message[0], message_body=message[1],
            ticket_number=layout.number if layout else "",
            ticket_topic=layout.topic_label if layout else "",
            ticket_lines=self._ticket_lines(),
            ticket_url=(layout.qr_text or "") if layout and layout.live_page else "",
            phone_note=self.phone_note,
            paperless_offered=self.phone_pages and not self.tickets_stopped,
            paperless=self.paperless or (self.tickets_stopped and self.phone_pages),
            large_text=self.large_text,
        )

    def _changed(self) -> None:
        view = self.view()
        if view == self._last_view:
            return
        self._last_view = view
        for listener in self._listeners:
            listener(view)
