"""Fixtures for the TUI tests."""

from __future__ import annotations

import pytest
from tui_support import make_app

from ztui.tui.app import ZtuiApp


@pytest.fixture
def app() -> ZtuiApp:
    return make_app()
