"""``talon operators``: see ``hub.devices_cli``."""
from hub.devices_cli import add_operator_arguments as add_arguments
from hub.devices_cli import run_operators as run

__all__ = ["add_arguments", "run"]
