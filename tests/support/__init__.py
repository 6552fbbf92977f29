"""Helpers the test folders share, imported as ``tests.support.<module>``.

Test folders hold only ``test_*.py`` files and fixtures (``conftest.py``);
anything a test imports by name lives here.
"""
