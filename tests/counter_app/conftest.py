"""Kivy's async app fixture for the one real-window test (pytest-asyncio, asyncio_mode=auto)."""
import pytest
from kivy.tests.fixtures import kivy_app  # noqa: F401  (a fixture)


@pytest.fixture()
def nursery():
    """Only trio needs a nursery; ``kivy_app`` asks for one either way."""
    return None
