"""Optional compiled kernels (Cython, built by ``pip install``), each the twin of a numpy
function that gives identical answers: a machine without a C compiler installs and runs on
the numpy code.

The environment variable ``MENTORMATCH_NATIVE``, read once (at the first use):

- unset or empty: the compiled kernels where they were built, else the numpy code;
- ``0``: the numpy code, always;
- ``1``: the compiled kernels, and an error if they were not built.

A kernel takes what it was written for (the block kernel: C-ordered float32 blocks); any other
input goes to the numpy code, with the same answers.

:func:`scan_kernel` gives the kernel of a bound pass's block (:mod:`.scan`), or None for the numpy
code (:func:`mentormatch.solvers.bounded.blockscan.numpy_scan`). :func:`flow_kernel` gives the
warm repair of a min-cost flow (:mod:`.flow`), or None for the scipy phases of
:mod:`mentormatch.solvers.warm` (the same optimal flows, for fewer violators: a cold solve
beyond); the same module computes the dual potentials of an optimal flow (the numpy twin:
:func:`mentormatch.solvers.duals.numpy_potentials`). :func:`assign_kernel` gives the assignment flow of ``assign()``'s rounds
(:mod:`.assign`), or None for OR-Tools' flow (:func:`mentormatch.solvers.dense.flow.round_flow`).
:func:`gather_kernel` gives exact scoring's fused per-pair gathers (:mod:`.gather`: competency's
covered share, personality's trait tables), or None for the features' numpy loops.
:func:`prices_kernel` gives the sweeps of the top level's first-price adjustment (:mod:`.prices`),
or None for their numpy loop (:func:`mentormatch.solvers.bounded.tatonnement.adjusted`).
"""
from __future__ import annotations

import importlib
import os

#: the environment variable that chooses between compiled and numpy code
SWITCH = "MENTORMATCH_NATIVE"

_chosen: dict = {}


def _wanted() -> bool | None:
    """True: the kernels are required; False: never used; None: used when built."""
    value = os.environ.get(SWITCH, "").strip()
    if value in ("", "0", "1"):
        return None if not value else value == "1"
    raise ValueError(f"environment variable {SWITCH}={value!r}: expected 0 (the numpy code), 1 (the "
                     "compiled kernels, which must be built) or nothing (the compiled kernels where built)")


def _kernel(name: str):
    """The compiled module ``mentormatch._native.<name>``, or None when the numpy code is to
    run (see the module's docstring); decided once a process per kernel."""
    if name not in _chosen:
        wanted = _wanted()
        module = None
        if wanted is not False:
            try:
                module = importlib.import_module(f"{__name__}.{name}")
            except ImportError as err:
                if wanted:
                    raise ImportError(f"{SWITCH}=1 asks for the compiled kernels, but {__name__}.{name} "
                                      f"was not built ({err}); reinstall with a C compiler "
                                      "(pip install -e .) or unset it") from err
        _chosen[name] = module
    return _chosen[name]


def scan_kernel():
    """The compiled block kernel (the module :mod:`mentormatch._native.scan`, which also holds
    the bounds checker's pool reads: :mod:`mentormatch.solvers.bounded.poolcheck`), or None when
    the numpy code is to run (see the module's docstring); decided once a process."""
    return _kernel("scan")


def flow_kernel():
    """The compiled warm repair of a min-cost flow (the module :mod:`mentormatch._native.flow`),
    or None: then :mod:`mentormatch.solvers.warm` repairs by scipy's Dijkstra phases, up to
    fewer violators (the same optimal flows; the pairs after the tie rule are the same), and
    :func:`mentormatch.solvers.duals.potentials` runs its numpy sweeps (the same potentials).
    Decided once a process, as :func:`scan_kernel`."""
    return _kernel("flow")


def assign_kernel():
    """The compiled routines of ``assign()``'s small path (the module
    :mod:`mentormatch._native.assign`: the assignment flow, the unit potentials, strong
    components, residual distances and the tie rule's movable pairs), or None for the numpy and
    OR-Tools routes (:func:`mentormatch.solvers.flow.solve_arrays`, :mod:`mentormatch.solvers.duals`,
    :mod:`mentormatch.solvers.residual`); decided once a process."""
    return _kernel("assign")


def gather_kernel():
    """The compiled per-pair gathers of exact scoring (the module
    :mod:`mentormatch._native.gather`), or None for the features' numpy loops (the same values
    to the bit); decided once a process."""
    return _kernel("gather")


def prices_kernel():
    """The compiled sweeps of the first-price adjustment (the module
    :mod:`mentormatch._native.prices`), or None for their numpy loop (the same prices to the
    bit); decided once a process."""
    return _kernel("prices")
