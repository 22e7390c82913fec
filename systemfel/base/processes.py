"""Worker processes that never outlive the process that started them."""
from __future__ import annotations

import os
import threading
import time


def exit_with_parent(interval: float = 0.2) -> None:
    """Call in a worker's initializer: the worker ends as soon as its parent is gone (kill -9
    included), instead of reading or embedding on for a dead build."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
