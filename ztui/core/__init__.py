"""The simulator core.  Imports nothing from Textual (tests/test_import_hygiene.py)."""
