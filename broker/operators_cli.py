"""``talon operators``: see ``broker.devices_cli``."""
from broker.devices_cli import add_operator_arguments as add_arguments
from broker.devices_cli import run_operators as run

__all__ = ["add_arguments", "run"]
