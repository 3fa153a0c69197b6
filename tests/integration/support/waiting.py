"""Waiting for a condition in a test, with a bound and a message saying what was awaited."""

import time


class Waiting:
    """Mixin for unittest.TestCase."""

    def wait_for(self, predicate, timeout, what, period=0.02):
        """predicate()'s first true value within `timeout` s; fails the test otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(period)
        self.fail(f"timed out after {timeout} s waiting for {what}")
