"""The benchmarks' harness: each measurement in its own subprocess (a script's ``--worker``
option: ``run.py``'s by default; ``scale.py``'s, ``assign_profile.py``'s, ``scoring_target.py``'s
and ``solvers_scale.py``'s too), so that its peak memory is its alone (``rss.py``) and a timeout
or crash is recorded, never silently dropped; and the description of the machine that a report
states."""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from rss import TreeRss

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: the script whose ``--worker`` option runs one measurement (:func:`worker_main`) unless
#: :func:`measure` names another
WORKER_SCRIPT = HERE / "run.py"
MARK = "@@RESULT@@ "
#: mentor-match 7.0.1 and matching 1.4.3 both install a top-level package named ``matching``;
#: where mentor-match lives in its own --target directory, its worker puts it first on sys.path.
PEER_DIRS = [Path(os.environ["MENTOR_MATCH_PATH"])] if os.environ.get("MENTOR_MATCH_PATH") else []
PEER_DIRS.append(ROOT / ".venv" / "peers" / "mentor-match")

GIB = 1024 ** 3


def use_src():
    """Put this checkout's ``src`` first on ``sys.path`` (in a worker: the code measured)."""
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


def log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def worker_main(workers: dict, spec_json: str) -> int:
    """In the subprocess: run ``workers[spec["kind"]](spec)`` and print its result after
    :data:`MARK`, with the process's peak memory (its own, its children's, its tree's) read as
    the worker returns, or those the worker read itself before (``TreeRss.current().peaks()``:
    a worker that does more after the call it measures)."""
    spec = json.loads(spec_json)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    with TreeRss() as tree:
        try:
            out = workers[spec["kind"]](spec)
            out["status_run"] = "ok"
        except BaseException as exc:  # noqa: BLE001 -- MemoryError, RecursionError: recorded, not fatal
            out = {"status_run": "error", "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                   "trace": traceback.format_exc()[-1500:]}
    for key, value in tree.peaks().items():
        out.setdefault(key, value)
    sys.stdout.write("\n" + MARK + json.dumps(out, default=float) + "\n")
    sys.stdout.flush()
    return 0


def measure(spec: dict, timeout: float | None = None, mem_limit: int | None = None,
            progress: Callable[[str], str] | None = None, script: Path = WORKER_SCRIPT,
            show_stderr: bool = False) -> dict:
    """Run one worker in a subprocess (``script --worker``); the result dict always has
    ``status_run``. ``progress``: what a worker that timed out had done, read from its stderr,
    added to the error; ``show_stderr``: the worker's stderr (its log, a profile) goes to this
    process's as it comes instead (then an error's message has no tail of it)."""
    cmd = [sys.executable, str(script), "--worker", json.dumps(spec)]

    def limit():
        if mem_limit:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

    t = time.perf_counter()
    # the caller's PYTHONPATH stays behind src: a peer installed in its own --target directory
    # (``matching`` beside mentor-match's namesake, see PEER_DIRS) is found through it
    path = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), MPLBACKEND="Agg")
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None if show_stderr else subprocess.PIPE,
                              text=True, timeout=timeout, preexec_fn=limit, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        done = progress(err) if progress else ""
        return {"status_run": "timeout", "error": f"timed out after {timeout:.0f} s{done}",
                "wall": time.perf_counter() - t}
    wall = time.perf_counter() - t
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            out = json.loads(line[len(MARK):])
            out["wall"] = wall
            return out
    tail = (proc.stderr or "").strip().splitlines()[-3:]
    return {"status_run": "error", "wall": wall,
            "error": f"exit {proc.returncode}" + (" (killed: out of memory?)" if proc.returncode < 0 else "")
            + (": " + " | ".join(tail) if tail else "")}


def measure_logged(what: str, spec: dict, timeout: float, mem_limit: int | None = None,
                   figure: str = "time", progress: Callable[[str], str] | None = None) -> dict:
    """:func:`measure`, logged: ``what`` as it starts, its outcome (the result's ``figure``, or
    its error) as it ends."""
    log(f"{what} ...")
    out = measure(spec, timeout, mem_limit, progress)
    log(f"        -> {out.get('status_run')} {out.get(figure, out.get('error'))}")
    return out


def machine() -> dict:
    """The machine, the library versions and the git commit a report states."""
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = int(line.split()[1]) * 1024 / GIB
    except OSError:
        pass
    from importlib import metadata
    for dist in ("numpy", "scipy", "pandas", "ortools", "networkx", "matching", "mentor-match",
                 "munkres", "mentormatch-pairing"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    for d in PEER_DIRS:  # mentor-match in its own directory (see PEER_DIRS)
        for dist in ("mentor_match", "munkres"):
            hits = sorted(d.glob(f"{dist}-*.dist-info")) if d.is_dir() else []
            if hits:
                info[f"{dist.replace('_', '-')} (peer dir)"] = hits[0].name.split("-")[1].removesuffix(".dist")
    try:
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True, cwd=str(ROOT)).stdout.strip()
        if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                          text=True, cwd=str(ROOT)).stdout.strip():
            info["git"] += " with uncommitted changes"
    except OSError:
        pass
    return info


def ram_bytes() -> int:
    """The machine's RAM (8 GiB where it cannot be read): what a measurement may not outgrow."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 * GIB

