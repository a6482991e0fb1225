"""bench.cpu reads the kernel's per-thread CPU time: it sees the work of the thread doing
it, and the processes it started."""

from __future__ import annotations

import os
import subprocess
import threading
import time

from bench.cpu import children, spent_s, thread_ticks


def test_the_busy_thread_is_the_one_charged() -> None:
    ready, done = threading.Event(), threading.Event()
    native: list[int] = []

    def busy() -> None:
        native.append(threading.get_native_id())
        ready.set()
        deadline = time.monotonic() + 10.0
        while not done.is_set() and time.monotonic() < deadline:
            sum(range(1000))

    worker = threading.Thread(target=busy)
    worker.start()
    ready.wait()
    before = thread_ticks(os.getpid())
    time.sleep(0.5)
    after = thread_ticks(os.getpid())
    done.set()
    worker.join()
    spent = spent_s(before, after)
    assert spent[native[0]] >= 0.1
    assert spent[threading.get_native_id()] < spent[native[0]]  # this one slept


def test_child_processes_are_found_from_any_thread() -> None:
    found: list[list[int]] = []
    child = subprocess.Popen(["sleep", "30"])  # started by this thread
    try:
        reader = threading.Thread(target=lambda: found.append(children(os.getpid())))
        reader.start()
        reader.join()
        assert child.pid in found[0]
    finally:
        child.kill()
        child.wait()
