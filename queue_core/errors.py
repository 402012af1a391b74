"""Every refusal of the queue rules, each with a stable code (the MQTT error vocabulary).

Each error names the thing it is about; the stored state is unchanged when one is raised.
"""
from __future__ import annotations


class QueueError(Exception):
    code = "illegal_transition"

    def __init__(self, message: str, message_ru: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_ru = message_ru or message


class UnknownTopic(QueueError, KeyError):
    code = "unknown_topic"


class UnknownWindow(QueueError, KeyError):
    code = "unknown_window"


class UnknownTicket(QueueError, KeyError):
    code = "unknown_ticket"


class IllegalTransition(QueueError):
    code = "illegal_transition"


class WindowClosed(QueueError):
    code = "window_closed"


class WindowBusy(QueueError):
    code = "window_busy"


class BreakNotAllowed(QueueError):
    code = "break_not_allowed"


class TopicClosed(QueueError):
    code = "topic_closed"


class NoTicket(QueueError):
    code = "no_ticket"


class BookingTooEarly(QueueError):
    code = "booking_too_early"


class BookingTooLate(QueueError):
    code = "booking_too_late"


class ConfigError(QueueError, ValueError):
    """A configuration problem; ``key`` is the dotted path of the offending entry."""

    code = "bad_config"

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem
