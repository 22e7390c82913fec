"""Worker processes that never outlive the process that started them."""
from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, interval: float = 0.2) -> None:
    """Call in a worker's initializer with the pid of the process that started the pool: the
    worker ends as soon as that process is gone (kill -9 included), instead of reading or
    embedding on for a dead build. The pid is passed in, not read here, because a parent
    killed while the worker was still importing has already been replaced by init."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
