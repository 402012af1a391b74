"""Office settings as the web dashboard saves them (``storage.settings``): a small TOML that
differs from the test office's file (its own name, one window), for the storage and hub tests."""

SAVED_TOML = """
[office]
id = "test"
name = "Сохранено на сайте"
timezone = "Asia/Yekaterinburg"
[[topics]]
code = "A"
form = "admin"
[[windows]]
number = 1
topics = ["A"]
"""
