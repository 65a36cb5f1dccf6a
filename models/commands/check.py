"""`tinygraph check`: gradient-check every Node subclass in students' files, for grading.

    tinygraph check hand_ins/                            # every .py file in the folder, and below
    tinygraph check alice.py bob.py --json report.json --junit-xml report.xml
    tinygraph check tinygraph.elementwise                # a module path works too

Each file is imported in a fresh Python process (its own time limit per node and
memory limit), which checks each node with tinygraph.testing.check_node and sends
the reports back through a pipe, one JSON line each. A node that runs past the
time limit is stopped with its process, and a fresh process carries on with the
file's next node. Nothing is written but the --json and --junit-xml files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tinygraph.models
from tinygraph.models.commands.arguments import EXIT_BAD_INPUT, positive_float, positive_int
from tinygraph.models.data import write_atomically
from tinygraph.checking import Location, NodeReport

EXIT_ALL_PASSED, EXIT_NOT_ALL_PASSED = 0, 1
STARTUP_SECONDS = 60  # for Python, numpy and hypothesis to import, before the student's file
GRACE_SECONDS = 1  # of CPU time past the limit, for the process to say where it was busy before it is killed
# The limit counts CPU time, so a machine loaded by other work stops no node early; a process that
# has computed nothing for this many times the limit of wall-clock time (a sleep) is stopped too.
WALL_CLOCK_FACTOR = 4


def add_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "check",
        help="gradient-check every Node subclass in students' files",
        description="Check the local gradients of every Node subclass defined in each FILE against central "
        "finite differences (float64, hypothesis-drawn shapes and values), each file in its own process. "
        "Exit code 0 only when every node passes.",
    )
    p.add_argument("targets", nargs="+", metavar="FILE",
                   help="a .py file, a folder (its .py files and its subfolders') or a module path")  # fmt: skip
    p.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                   help="CPU time limit per node (10): a node still running is stopped and reported")  # fmt: skip
    p.add_argument("--memory", type=positive_int, default=1024, metavar="MB",
                   help="memory limit of each file's process, in MiB of address space (1024)")  # fmt: skip
    p.add_argument("--examples", type=positive_int, default=100, metavar="N",
                   help="examples drawn per node (100), before shrinking a failure")  # fmt: skip
    p.add_argument("--jobs", type=positive_int, default=usable_cores(), metavar="N",
                   help="files checked at once (one per core)")  # fmt: skip
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the report as JSON")
    p.add_argument("--junit-xml", type=Path, metavar="PATH", help="also write the report as JUnit XML")
    p.set_defaults(run=run)


def usable_cores() -> int:
    """The cores this process may run on (Linux knows; elsewhere, the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ---- what the run found --------------------------------------------------------------


@dataclass
class FileReport:
    """One target's outcome: its nodes' reports (as check_node's to_dict), or why it did not import."""

    target: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    import_error: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        return {status: sum(n["status"] == status for n in self.nodes) for status in ("passed", "failed", "errored")}

    @property
    def passed(self) -> bool:
        return self.import_error is None and bool(self.nodes) and all(n["status"] == "passed" for n in self.nodes)

    def summary(self) -> str:
        name = Path(self.target).name
        if self.import_error is not None:
            return f"{name}: did not import: {Location(**self.import_error)}"
        if not self.nodes:
            return f"{name}: no Node subclass with a forward method defined here"
        return f"{name}: " + ", ".join(f"{count} {status}" for status, count in self.counts().items())


def table(report: FileReport) -> str:
    """The lecturer's view of one file: a line per node, its details below it, then the summary."""
    lines = [report.target]
    width = max((len(n["node"]) for n in report.nodes), default=0)
    for node in report.nodes:
        first, *rest = node["details"] or [""]
        lines.append(f"  {node['status']:<8} {node['node']:<{width}}   {first}")
        lines.extend(f"  {'':<8} {'':<{width}}   {detail}" for detail in rest)
    lines.append("  " + report.summary())
    return "\n".join(line.rstrip() for line in lines)


# ---- the command -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if os.name != "posix":
        print("tinygraph: error: tinygraph check limits each process's time and memory the Unix way: "
              "it runs on Linux and macOS", file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    targets = [str(t) for target in args.targets for t in expand(target)]
    for output in filter(None, [args.json, args.junit_xml]):  # refused now, not after the whole run
        if not output.parent.is_dir():
            raise FileNotFoundError(2, "no such folder for the report", str(output))
    try:
        import hypothesis  # noqa: F401  (the children need it; say so once, here)
    except ImportError:
        print("tinygraph: error: tinygraph check needs hypothesis: pip install hypothesis", file=sys.stderr)
        return EXIT_BAD_INPUT
    reports = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for report in pool.map(lambda target: check_file(target, args), targets):
            print(table(report), flush=True)
            reports.append(report)
    print(overall(reports))
    if args.json is not None:
        document = {"files": [as_json(r) for r in reports], "passed": all(r.passed for r in reports)}
        write_atomically(args.json, lambda f: f.write(json.dumps(document, indent=2).encode() + b"\n"))
    if args.junit_xml is not None:
        write_atomically(args.junit_xml, lambda f: ET.ElementTree(junit(reports)).write(f, encoding="utf-8",
                                                                                        xml_declaration=True))
    return EXIT_ALL_PASSED if all(r.passed for r in reports) else EXIT_NOT_ALL_PASSED


def expand(target: str) -> list[str]:
    """A folder's .py files (sorted, hidden folders left out), a file itself, or a module path as it is."""
    path = Path(target)
    if path.is_dir():
        folders = lambda file: file.relative_to(path).parts[:-1]  # noqa: E731
        files = sorted(str(f) for f in path.rglob("*.py") if not any(p.startswith((".", "__")) for p in folders(f)))
        if not files:
            raise FileNotFoundError(2, "no .py file in this folder", target)
        return files
    if path.is_file() or all(part.isidentifier() for part in target.split(".")) and not target.endswith(".py"):
        return [target]
    raise FileNotFoundError(2, "no such file, folder or module", target)


def overall(reports: list[FileReport]) -> str:
    totals = {status: sum(r.counts()[status] for r in reports) for status in ("passed", "failed", "errored")}
    nodes = sum(totals.values())
    line = f"{len(reports)} file{'s' * (len(reports) != 1)}, {nodes} node{'s' * (nodes != 1)}: " + ", ".join(
        f"{count} {status}" for status, count in totals.items()
    )
    not_imported = sum(r.import_error is not None for r in reports)
    return line + (f"; {not_imported} did not import" if not_imported else "")


def as_json(report: FileReport) -> dict[str, Any]:
    return {"file": report.target, "passed": report.passed, "summary": report.summary(),
            "import_error": report.import_error, "nodes": report.nodes}  # fmt: skip


def junit(reports: list[FileReport]) -> ET.Element:
    """JUnit XML as GitHub Classroom, Gradescope and CI servers read it: a testsuite per file, a testcase per node."""
    suites = ET.Element("testsuites", name="tinygraph check")
    for report in reports:
        counts = report.counts()
        failures = counts["failed"]
        errors = counts["errored"] + (report.import_error is not None or not report.nodes)
        suite = ET.SubElement(suites, "testsuite", name=report.target, tests=str(max(1, len(report.nodes))),
                              failures=str(failures), errors=str(errors))  # fmt: skip
        if report.import_error is not None or not report.nodes:
            case = ET.SubElement(suite, "testcase", classname=report.target, name="import")
            ET.SubElement(case, "error", message=report.summary()).text = report.summary()
        for node in report.nodes:
            case = ET.SubElement(suite, "testcase", classname=report.target, name=node["node"],
                                 time=f"{node['seconds']:.3f}")  # fmt: skip
            if node["status"] != "passed":
                tag = "failure" if node["status"] == "failed" else "error"
                ET.SubElement(case, tag, message=node["details"][0]).text = "\n".join(node["details"])
    return suites


# ---- one file, in as many processes as its nodes' time limits need -----------------------


def check_file(target: str, args: argparse.Namespace) -> FileReport:
    report = FileReport(target)
    names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tinygraph-check-") as scratch:  # the student's code runs in here
        while True:
            done = len(report.nodes)
            running, provisional, started, busy = None, None, time.monotonic(), None
            for event in child_events(target, args, [n["node"] for n in report.nodes], scratch):
                kind = event["event"]
                if kind == "import_error":
                    report.import_error = event["error"]
                elif kind == "nodes":
                    names = event["names"]
                elif kind == "start":
                    running, provisional, started, busy = event["node"], None, time.monotonic(), None
                elif kind == "provisional":
                    provisional = preferred(provisional, event["report"])
                elif kind == "busy":
                    busy = event
                elif kind == "result":
                    report.nodes.append({**event["report"], "seconds": time.monotonic() - started})
                    running = None
                elif kind in ("stopped", "died") and running is None:  # the import itself hung or crashed
                    report.import_error = stopped_error(event, busy, args, "importing")
                elif kind in ("stopped", "died"):
                    report.nodes.append(stopped_node(running, event, provisional, busy, args, started))
                    running = None
            if running is not None:  # the process ended without a word, as os._exit() ends it
                ended = {"event": "died", "message": "the process ended while checking it"}
                report.nodes.append(stopped_node(running, ended, provisional, busy, args, started))
            # A node stopped at its time limit leaves the rest of the file to a fresh process.
            if report.import_error is not None or len(report.nodes) >= len(names) or len(report.nodes) == done:
                return report


def preferred(kept: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The later of two failing examples (further shrunk), but a wrong value over an exception."""
    return kept if kept is not None and kept["status"] == "failed" and new["status"] != "failed" else new


def stopped_error(
    event: dict[str, Any], busy: dict[str, Any] | None, args: argparse.Namespace, doing: str
) -> dict[str, Any]:
    """Why a process was stopped (the time limit, and the line it was busy on) or died."""
    if event["event"] == "stopped" or event.get("signal") == signal.SIGXCPU:
        message = f"{doing} took more than {args.timeout:g} s of CPU time (the time limit)"
        if event["event"] == "stopped":
            message = f"{doing} waited {WALL_CLOCK_FACTOR * args.timeout:g} s without computing (the time limit)"
        return {"kind": "TimeoutError", "message": message,
                "file": busy and busy.get("file"), "line": busy and busy.get("line")}  # fmt: skip
    return {"kind": "ProcessDied", "message": event["message"], "file": None, "line": None}


def stopped_node(
    node: str, event: dict[str, Any], provisional: dict[str, Any] | None, busy: dict[str, Any] | None,
    args: argparse.Namespace, started: float,
) -> dict[str, Any]:  # fmt: skip
    """The report of a node whose process was stopped at the time limit, or died."""
    error = stopped_error(event, busy, args, "checking it")
    seconds = time.monotonic() - started
    if provisional is not None:  # a failing example was found before: report it, less shrunk than it might be
        note = f"{error['message']}, while looking for a smaller example than this one"
        return {**provisional, "details": [*provisional["details"], note], "notes": [note], "seconds": seconds}
    return {**NodeReport(node, None, "errored", 0, error=Location(**error)).to_dict(), "seconds": seconds}


def child_events(target: str, args: argparse.Namespace, skip: list[str], scratch: str) -> Iterator[dict[str, Any]]:
    """Run a child process on `target` and yield its events, then a last "stopped" or "died" event if it
    was stopped at a time limit or ended before it finished."""
    read_end, write_end = os.pipe()
    order = {"target": target, "fd": write_end, "skip": skip, "memory": args.memory, "examples": args.examples,
             "timeout": args.timeout, "cwd": os.getcwd()}  # fmt: skip
    root = str(Path(tinygraph.models.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygraph.models.commands.check", json.dumps(order)],
        pass_fds=[write_end], cwd=scratch, env=env, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    try:
        deadline, died, cpu = time.monotonic() + STARTUP_SECONDS, False, cpu_seconds(process.pid)
        wait = WALL_CLOCK_FACTOR * args.timeout
        for event in json_lines(read_end, lambda: deadline):
            if event is None:
                cpu, before = cpu_seconds(process.pid), cpu
                if cpu is None or before is None or cpu - before < 0.02 * wait:  # a sleeping process uses none
                    yield {"event": "stopped"}
                    return
                event = {"event": "computing"}  # slowly, on a loaded machine: its CPU time limit will stop it
            if event["event"] in ("ready", "nodes", "start", "result", "computing"):
                deadline = time.monotonic() + wait
            died = died or event["event"] == "died"
            yield event
        process.wait()
        if process.returncode != 0 and not died:
            code = process.returncode
            cause = f"signal {-code}" if code < 0 else f"exit code {code}"
            yield {"event": "died", "signal": -code, "message": f"the process ended unexpectedly ({cause})"}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the student's code may have started processes of its own
            process.wait()
        os.close(read_end)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time process `pid` has used so far, where Linux's /proc tells (None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime


def json_lines(fd: int, deadline: Callable[[], float]) -> Iterator[dict[str, Any] | None]:
    """The JSON lines written to `fd` until it closes, and None each time deadline() passes first."""
    buffer = b""
    while True:
        remaining = deadline() - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            yield None
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        *lines, buffer = (buffer + chunk).split(b"\n")
        for line in lines:
            yield json.loads(line)


# ---- the child process -------------------------------------------------------------------


def child(order: dict[str, Any]) -> None:
    """Import the target, then check each of its nodes, sending each step to the parent as a JSON line."""
    import resource  # Unix only, as is the rest of the child's work

    limit = order["memory"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.dont_write_bytecode = True
    send = sender(order["fd"])
    from tinygraph.checking import check_node, locate, node_classes

    target = order["target"]
    file = str(Path(order["cwd"], target).resolve()) if target.endswith(".py") else None
    watched = {"file": file}  # whose lines the time limit's alarm looks for
    signal.signal(signal.SIGPROF, lambda number, frame: send(event="busy", **busy_line(frame, watched["file"])))
    send(event="ready")
    limit_cpu_time(order["timeout"])
    try:
        namespace, module = import_target(target, order["cwd"])
    except BaseException as error:  # a syntax error, anything the file raises, even SystemExit
        send(event="import_error", error=asdict(locate(error, file or getattr(error, "filename", None))))
        return
    limit_cpu_time(None)
    classes = node_classes(namespace, module)
    send(event="nodes", names=[c.__name__ for c in classes])
    for node_class in classes:
        if node_class.__name__ in order["skip"]:
            continue
        send(event="start", node=node_class.__name__)
        watched["file"] = file or getattr(sys.modules.get(node_class.__module__), "__file__", None)
        limit_cpu_time(order["timeout"])
        report = check_node(node_class, max_examples=order["examples"],
                            on_failure=lambda r: send(event="provisional", report=r.to_dict()))  # fmt: skip
        limit_cpu_time(None)
        send(event="result", report=report.to_dict())


def limit_cpu_time(seconds: float | None) -> None:
    """From now on, `seconds` more of CPU time (None: no limit): then a SIGPROF asks where the process is
    busy, and GRACE_SECONDS later the kernel kills it (SIGXCPU), even inside a long numpy call."""
    import resource

    signal.setitimer(signal.ITIMER_PROF, seconds or 0)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = hard if seconds is None else math.ceil(used.ru_utime + used.ru_stime + seconds + GRACE_SECONDS)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def sender(fd: int) -> Callable[..., None]:
    """send(**event): one JSON line to the parent, written whole (an alarm may come between two writes)."""

    def send(**event: Any) -> None:
        data = memoryview((json.dumps(event, default=repr) + "\n").encode())
        while data:
            data = data[os.write(fd, data):]

    return send


def busy_line(frame: Any, file: str | None) -> dict[str, Any]:
    """The innermost line of `file` that `frame`'s stack is running: where a node spends its time."""
    while frame is not None and frame.f_code.co_filename != file:
        frame = frame.f_back
    return {"file": file, "line": frame.f_lineno} if frame is not None else {}


def import_target(target: str, cwd: str) -> tuple[dict[str, Any], str]:
    """The namespace of the file or module `target`, and the module name its classes carry."""
    import importlib
    import importlib.util

    if not target.endswith(".py"):
        sys.path.insert(0, cwd)  # module paths are found from where the command was run, as with python -m
        return vars(importlib.import_module(target)), target
    path = Path(target)
    if not path.is_absolute():
        path = Path(cwd) / path
    sys.path.append(str(path.parent))  # the file's own helper modules, after everything installed
    name = "handin_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    spec.loader.exec_module(module)
    return vars(module), name


def main_child(argv: list[str]) -> int:
    order = json.loads(argv[0])
    try:
        child(order)
    except Exception as error:  # a bug of this module, not the student's: the parent reports the process died
        sender(order["fd"])(event="died", message=f"tinygraph check failed: {type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_child(sys.argv[1:]))
