"""What the benchmarks ran on: absolute times move with the CPU, the BLAS kernel and the threads."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def blas() -> list[dict[str, Any]]:
    """numpy's BLAS: library, kernel (threadpoolctl's `architecture`) and thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl is not installed"}]
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")
    return [{key: pool.get(key) for key in keep} for pool in threadpool_info() if pool.get("user_api") == "blas"]


def machine(torch_note: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tinygraph": tinygraph.__version__,
        "blas": blas(),
        # OpenBLAS picks its kernel from the CPU unless this forces one; on some
        # machines that alone moves numpy's matrix products by 1.5x.
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    if torch_note is None:
        import torch

        info["pytorch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    else:
        info["pytorch"] = torch_note
    return info
