"""The chaos suite reuses the crash tests' processes, configuration and destination."""

from tests.delivery.test_crash import peer  # noqa: F401 - the fixture
