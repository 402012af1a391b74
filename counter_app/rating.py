"""The visitor's rating after *Done*: ask, thank, time out. Pure; times are monotonic seconds.

Where it is asked: on this screen (``screen``), on a GPIO rating panel (``external``),
or never (``off``).
"""
from __future__ import annotations

from dataclasses import dataclass

RATING_SCREEN, RATING_EXTERNAL, RATING_OFF = "screen", "external", "off"
RATING_MODES = (RATING_SCREEN, RATING_EXTERNAL, RATING_OFF)
ASK, THANKS = "ask", "thanks"


@dataclass(frozen=True)
class Rating:
    ticket: str
    phase: str          # ask / thanks
    deadline: float


@dataclass(frozen=True)
class RatingRules:
    mode: str = RATING_SCREEN
    timeout_s: float = 30.0     # how long the prompt waits for a score
    thanks_s: float = 5.0       # how long «Спасибо за Вашу оценку!» stays

    def __post_init__(self):
        if self.mode not in RATING_MODES:
            raise ValueError(f"unknown rating mode {self.mode!r}")

    def after_done(self, ticket: str, now: float) -> Rating | None:
        """The prompt for a ticket just finished (None when ratings are off)."""
        return None if self.mode == RATING_OFF or not ticket else Rating(ticket, ASK, now + self.timeout_s)

    def thanked(self, rating: Rating | None, ticket: str, now: float) -> Rating | None:
        """After the hub stored the score for ``ticket``."""
        if rating is None or rating.ticket != ticket:
            return rating
        return Rating(ticket, THANKS, now + self.thanks_s)

    @staticmethod
    def expired(rating: Rating | None, now: float) -> Rating | None:
        """The prompt as it stands at ``now`` (None once its time is up)."""
        return None if rating is None or now >= rating.deadline else rating
