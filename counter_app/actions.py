"""What the operator can press and the contract op (with its arguments) each press sends.

Which of them are allowed now is not decided here: the hub publishes it as
``state/window/<n>.actions`` (``queue_core.office.Office.allowed_actions``).
"""
from __future__ import annotations

NEXT, RECALL, START, DONE, NO_SHOW, TRANSFER, BREAK, CLOSE, OPEN = (
    "next", "recall", "start", "done", "no_show", "transfer", "break", "close", "open")
ACTIONS = (NEXT, RECALL, START, DONE, NO_SHOW, TRANSFER, BREAK, CLOSE, OPEN)
OPS = {NEXT: "call_next", RECALL: "recall", START: "start", DONE: "finish",
       NO_SHOW: "no_show", TRANSFER: "transfer", BREAK: "pause", CLOSE: "close", OPEN: "open"}
BREAK_KINDS = ("technical", "lunch", "rest")
OUTCOMES = ("done", "needs_followup", "terminated")
RATING_SCORES = (5, 4, 3, 2, 1)
ACCOUNTS_QUICK = (1, 2, 3, 4)      # Done on a per-account topic: quick buttons, then «5+»
ACCOUNTS_MORE = "more"
ACCOUNTS_MAX = 99                  # the contract's range for finish ``accounts`` (1..99)


def request_for(action: str, window: int, **options) -> tuple[str, dict]:
    """``(op, args)`` for pressing ``action`` at ``window``. Bad options are programming
    errors (ValueError): the screen and the GPIO panel only offer valid ones."""
    if action not in OPS:
        raise ValueError(f"unknown action {action!r}")
    args: dict = {"window": window}
    if action == DONE:
        outcome, accounts = options.get("outcome"), options.get("accounts")
        if outcome is not None:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}")
            args["outcome"] = outcome
        if accounts is not None:
            if not 1 <= int(accounts) <= ACCOUNTS_MAX:
                raise ValueError(f"accounts must be 1..{ACCOUNTS_MAX}")
            args["accounts"] = int(accounts)
    elif action == BREAK:
        kind = options.get("kind") or "technical"
        if kind not in BREAK_KINDS:
            raise ValueError(f"unknown break kind {kind!r}")
        args["kind"] = kind
    elif action == TRANSFER:
        topic, to_window = options.get("topic"), options.get("to_window")
        if (topic is None) == (to_window is None):
            raise ValueError("transfer needs exactly one of topic or to_window")
        if to_window is not None:
            args["to_window"] = int(to_window)
        else:
            args["topic"] = str(topic)
    return OPS[action], args
