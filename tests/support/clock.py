"""A clock for polling loops: time moves only when the code under test sleeps."""

from __future__ import annotations

from factorstack.deploy.context import Timing


class FakeClock:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def timing(self, timeout: float = 60.0, poll: float = 5.0) -> Timing:
        return Timing(timeout=timeout, poll=poll, sleep=self.sleep, clock=lambda: self.now)
