"""Batched writes for the call log and the response cache: flush every `batch` items, or
`delay_s` after the first pending one (inside an event loop; outside one, at once)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable


class FlushTimer:
    def __init__(self, flush: Callable[[], None], batch: int, delay_s: float):
        self._flush, self.batch, self.delay_s = flush, batch, delay_s
        self._timer: asyncio.TimerHandle | None = None

    def pending(self, count: int) -> None:
        """Call after adding an item; `count` is how many are now pending."""
        if count >= self.batch:
            self._flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.delay_s, self._flush)
            except RuntimeError:
                self._flush()

    def cancel(self) -> None:
        """Call at the start of every flush."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
