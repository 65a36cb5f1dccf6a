"""Timing, peak memory and the flat-memory check, for objects with a `step()` method."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import psutil

MiB = 2**20


def calibrate(steps: Sequence[Callable[[], None]], target_s: float) -> int:
    """How many iterations make one timed batch last about `target_s` for the fastest implementation.

    Every implementation then runs batches of the same size, so that iterations of
    tens of microseconds are timed over many calls and not against the clock's grain.
    """
    fastest = float("inf")
    for step in steps:
        step()  # warm up: first calls fill caches and import lazily
        start = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - start)
    return max(1, round(target_s / fastest))


def time_round_robin(steps: dict[str, Callable[[], None]], repeats: int, batch: int) -> dict[str, list[float]]:
    """Seconds per iteration, `repeats` samples each, the implementations taking turns.

    Each round runs one batch of every implementation, starting with a different one
    each round, so that a slow spell of a shared machine falls on all of them alike.
    """
    names = list(steps)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            step = steps[name]
            start = time.perf_counter()
            for _ in range(batch):
                step()
            samples[name].append((time.perf_counter() - start) / batch)
    return samples


def summary(seconds: list[float]) -> dict[str, float]:
    q1, median, q3 = statistics.quantiles(seconds, n=4) if len(seconds) > 1 else seconds * 3
    return {"median_s": statistics.median(seconds), "q1_s": q1, "q3_s": q3, "min_s": min(seconds)}


def peak_memory(step: Callable[[], None]) -> float:
    """MiB allocated at the peak of one iteration above what was held before it (tracemalloc).

    numpy reports its array buffers to tracemalloc, so this counts the arrays an
    iteration makes (activations, gradients, the new parameters); libraries that
    allocate behind Python's back (PyTorch) are invisible to it.
    """
    step()  # warm up outside the trace
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step()
        return (tracemalloc.get_traced_memory()[1] - before) / MiB
    finally:
        tracemalloc.stop()


def flat_memory(
    step: Callable[[], None], iterations: int, watched: tuple[type, ...], checkpoints: int = 5
) -> dict[str, Any]:
    """Run `iterations` iterations with the garbage collector off and report what stayed behind.

    With the collector off, anything kept alive by a reference cycle stays in memory,
    so a graph that refers to itself would show three times: as more live objects of
    the `watched` types (the engine's tensors and nodes) after the run than before,
    as watched objects that gc.collect() finds in cycles afterwards, and as resident
    memory that keeps growing. Flat means none of them. Only watched objects count,
    so that other threads of the process (a test suite's, say) cannot blur the figure;
    resident memory rather than tracemalloc, which would slow the run tenfold.
    """
    def live() -> int:
        return sum(issubclass(type(o), watched) for o in gc.get_objects())  # type(): no proxy hooks

    process = psutil.Process()
    process.memory_info()  # psutil caches what it learns on the first call
    step()
    gc.collect()
    gc.disable()
    try:
        step()  # so that objects the collector would untrack are counted alike before and after
        rss: list[float] = []
        objects = live()
        for i in range(1, iterations + 1):
            step()
            if i % max(1, iterations // checkpoints) == 0:
                rss.append(process.memory_info().rss / MiB)
        new_objects = live() - objects
    finally:
        debug, saved_garbage = gc.get_debug(), list(gc.garbage)
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector frees in gc.garbage, to look at it
        collected = gc.collect()
        in_cycles = sum(issubclass(type(o), watched) for o in gc.garbage)
        gc.garbage[:] = saved_garbage
        gc.set_debug(debug)
        gc.enable()
    # The first stretch may still fill the allocator's pools; after it, a graph kept
    # alive would add at least one activation matrix every iteration.
    growth = rss[-1] - rss[0]
    return {
        "iterations": iterations,
        "rss_mib_at_checkpoints": rss,
        "rss_growth_after_first_checkpoint_mib": growth,
        "new_live_objects": new_objects,
        "objects_in_cycles": in_cycles,
        "gc_collected_objects_any_kind": collected,
        "flat": new_objects <= 0 and in_cycles == 0 and growth < 1.0,
    }
