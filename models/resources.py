"""Memory, checked before the work: an estimate of what training needs against what the machine has.

A network too large for the machine should be refused in one line naming the
option that made it so, before seconds of work end in numpy's MemoryError. The
estimate counts what grows with the network and the data:

    parameters      P values, each with its gradient, an optimiser's state (none for
                    SGD, one for momentum, two for Adam), the copy early stopping keeps,
                    and the temporaries of an update
    activations     each layer's Z and A for a batch, and their gradients in backward
    evaluation      a forward pass without the graph over the whole training set, for
                    the final accuracies (each layer's Z and A are kept till its end)

It is an estimate of the arrays (not of Python's own overhead, some megabytes).
What is available is the least of the memory Linux reports as available, the
cgroup's limit (containers), and the address space `ulimit -v` leaves.
"""

from __future__ import annotations

import contextlib
import math
import resource
from collections.abc import Iterator, Sequence
from pathlib import Path

import tinygraph as tg

# Arrays alive at once per parameter array while an optimiser updates it: the value, its
# gradient, the optimiser's state (momentum 1, RMSprop 1, Adam 2) and the update's temporaries
# (measured with tracemalloc: tests/test_resources.py holds the estimate to the measured peak).
ARRAYS_PER_PARAMETER = {"sgd": 4, "momentum": 6, "rmsprop": 7, "adam": 9}


class ResourceError(tg.TinygraphError, MemoryError):
    """Work that needs more memory than the machine has; the message names the option and the figures."""


def training_bytes(
    layer_sizes: Sequence[int],
    train_examples: int,
    batch_size: int | None,
    itemsize: int,
    optimizer: str = "sgd",
    early_stopping: bool = False,
) -> int:
    """About how many bytes of arrays training the network [nx, n1, ..., nL] needs, beyond the data."""
    parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))
    copies = ARRAYS_PER_PARAMETER[optimizer] + int(early_stopping)  # early stopping keeps the best parameters
    batch = train_examples if batch_size is None else min(batch_size, train_examples)
    units = sum(layer_sizes[1:])
    activations = 6 * units * batch  # Z and A forward; backward's gradients and the temporaries that make them
    evaluation = 3 * units * train_examples  # every layer's Z and A (the forward keeps them), and one more
    return (copies * parameters + activations + evaluation) * itemsize


def available_bytes() -> int | None:
    """The memory this process can still get, or None where it cannot be told."""
    limits = [_meminfo_available(), _cgroup_available(), _address_space_available()]
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def check_fits(needed: int, what: str, available: int | None = None) -> None:
    """ResourceError naming `what` (e.g. '--hidden 1000000') when `needed` bytes exceed what is available."""
    available = available_bytes() if available is None else available
    if available is not None and needed > available:
        raise ResourceError(
            f"{what}: needs about {size_text(needed)} of memory, but {size_text(available)} is available"
        )


@contextlib.contextmanager
def memory_errors(what: str) -> Iterator[None]:
    """A MemoryError inside the block (an estimate that fell short) becomes a ResourceError naming `what`."""
    try:
        yield
    except ResourceError:
        raise
    except MemoryError as error:  # numpy's says "Unable to allocate 74.5 GiB for an array with shape ..."
        raise ResourceError(f"{what}: not enough memory ({error or 'an allocation failed'})") from None


def size_text(count: int) -> str:
    """1536 -> '1.5 KiB': bytes as people read them."""
    if count < 1024:
        return f"{count} bytes"
    power = min(int(math.log(count, 1024)), 4)
    return f"{count / 1024**power:.1f} {'KMGT'[power - 1]}iB"


def _meminfo_available() -> int | None:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        lines = Path("/proc/meminfo").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("MemAvailable:")).split()[1]) * 1024
    return None


def _cgroup_available() -> int | None:
    """A cgroup v2 memory limit less what the group uses, as containers set it."""
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            return max(int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text()), 0)
    return None


def _address_space_available() -> int | None:
    """What `ulimit -v` (RLIMIT_AS) leaves of this process's address space."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    with contextlib.suppress(OSError, ValueError, StopIteration):
        lines = Path("/proc/self/status").read_text().splitlines()
        used = int(next(line for line in lines if line.startswith("VmSize:")).split()[1]) * 1024
        return max(soft - used, 0)
    return soft
