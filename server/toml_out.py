"""Office TOML written from an ``OfficeConfig``: the pure writer lives in ``queue_core.config_toml``
(the hub sends head office its settings with it too)."""
from queue_core.config_toml import config_to_toml

__all__ = ["config_to_toml"]
