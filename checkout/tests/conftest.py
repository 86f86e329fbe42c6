from sandbox.tests.test_browser import chromium_page  # noqa: F401 (Chromium for the journeys)
