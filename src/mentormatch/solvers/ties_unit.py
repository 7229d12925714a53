"""The tie rule's pick (:func:`mentormatch.solvers.ties.canonical`) by the compiled assignment
flow (:mod:`mentormatch._native.assign`), when every demand is at most 1 and there is no
``coverage_first`` weight: the same pairs as steps 2-4 of the rule (:mod:`.ties`), without the
network of arcs, OR-Tools' second flows or the residual distances.

Why the pick is the same
------------------------
The rule returns, at each stage ``s``, the flow of least sum of keys ``key_s`` over the set
``F_s`` of the last stage's optima (``F_1``: the optima of the assignment); it needs the set,
not a description by moving arcs. Complementary slackness describes ``F_s`` exactly from any
potentials ``pi`` that prove one of its flows optimal: a flow is in ``F_s`` iff it is feasible,
carries nothing on an arc of positive reduced cost, fills every arc of negative reduced cost,
and is free on the arcs of reduced cost 0. With every demand at most 1 those bounds are bounds
on pairs (left out, kept chosen, free), on mentees (matched, unmatched, free: the arc from the
source, or in the compiled flow's network the mentee's arc to the sink, which is staying
unmatched) and on mentors (empty, full, free). The first stage reads them from the
certificate's potentials (the bypass source -> sink of negative or positive reduced cost makes
every mentee unmatched or matched); a later stage from the compiled flow's own potentials.

The compiled flow has no lower bounds, so "matched" and "full" are asked for by a bonus: each
free pair's cost is ``key - M * (1 if its mentee must be matched) - M * (1 if its mentor must
be full)``, ``M`` more than any two flows' key sums can differ (``(places + 1) * 2**bits``).
A flow's bonus is at most ``M`` times the mentees that must be matched plus the places of the
mentors that must be full, and reaches it iff every bound holds; ``F_s`` is not empty (it holds
the flow given), so a least-cost flow reaches it, and then has the least key sum among the
flows of ``F_s``. That is the rule's second flow, whatever flow solves it.

Whether the optimum is unique (step 2) is a property of the set of optimal assignments too:
a pair's choice differs between optima iff the pair lies on a cycle of reduced cost 0 in the
residual network of any optimum, in any network with the same assignments and costs; here the
compiled flow's network (mentees, mentors, the sink), with the certificate's potentials of the
mentees and mentors and the sink's (they prove the same optimum there: a mentee's arc to the
sink has reduced cost ``d_i - d_sink``, which the source's arcs bound by ``d_source``), then
with each stage's own. So the stages, ``unique`` and ``movable_pairs`` are the rule's;
``second_flow_solves`` counts the compiled solves (one a stage).
"""
from __future__ import annotations

import numpy as np

from .._native import assign_kernel

#: The compiled second flow runs when its start, counted at ``face_start`` pairs a mentee with a
#: free pair and the chosen ones, is at most this many pairs (it starts from :data:`PICK_START`
#: a mentee); above, the rule's own second flows on
#: OR-Tools. Measured up to 10,000 x 2,500 with scores in 4 levels (6.2 million pairs on the
#: face, 90,282 at the start): the pick 2.5 s of CPU against 3.4-4.0 s for the rule's own flows
#: (which work on every pair of the face in numpy); larger starts are not measured.
PICK_PAIRS = 200_000
#: The compiled second flow starts from about this many pairs a mentee (of smallest key), where
#: the rule's own second flows start from :data:`~mentormatch.solvers.ties.FACE_START` (8, which
#: still decides when the pick runs compiled: :data:`PICK_PAIRS`). Each flow starts afresh, so a
#: pair that joins costs a second flow: scores in 4 levels, capacity 4, 8 pairs ran two flows at
#: 2,000 x 500 (33 ms), 5,000 x 1,250 (150 ms) and 10,000 x 2,500 (610-730 ms), 12 one (17, 95
#: and 400 ms; 16 one, 19, 95 and 475 ms); 2 and 6 levels at 2,000 x 500: 12 as fast or faster
#: (s32, CPU, load 5-7). The pick is the same from any start (the stage's set of optima).
PICK_START = 12
#: The pick runs compiled when ``8 * (M + 2**bits)`` stays below this; else the rule's own
#: second flows. Every label and potential of :func:`mentormatch._native.assign.flow_assign`
#: on the pick's network stays within that (:func:`_least`), far inside int64 (with
#: :func:`mentormatch.solvers.ties.key_bits`' keys, ``8 * (M + 2**bits) <= 2**64 / nodes``).
LABEL_ROOM = 1 << 62
#: Potentials the pick reads must be inside this, so that no reduced cost it computes wraps.
POTENTIAL_ROOM = 1 << 61


def applies(dem: np.ndarray, cover) -> bool:
    """Whether :func:`pick` can run: the kernel is built, no ``cover`` and demands <= 1."""
    return cover is None and assign_kernel() is not None and int(np.max(dem, initial=0)) <= 1


def check_potentials(a, b, x, rc, dem, cap, d_s, d_t, pi_i, pi_j) -> None:
    """The ValueError of :func:`mentormatch.solvers.ties.pick_on_face` when the certificate's
    potentials do not prove the optimum: on the pairs (``rc`` of the pair arcs, ``x`` chosen),
    the source's arcs to the mentees, the mentors' to the sink and the bypass. (The chosen
    pairs are few: read by position, with no copy of the others' reduced costs.)"""
    at = np.flatnonzero(x)
    f = np.bincount(a[at], minlength=len(dem))
    load = np.bincount(b[at], minlength=len(cap))
    rc_i, rc_j = d_s - pi_i, pi_j - d_t
    matched, total = int(f.sum()), int(dem.sum())
    below = rc < 0
    below[at] = False
    if (below.any() or (rc[at] > 0).any()
            or ((f < dem) & (rc_i < 0)).any() or ((f > 0) & (rc_i > 0)).any()
            or ((load < cap) & (rc_j < 0)).any() or ((load > 0) & (rc_j > 0)).any()
            or (matched > 0 and d_s - d_t < 0) or (matched < total and d_s - d_t > 0)):
        raise ValueError("the potentials do not prove the assignment optimal over these pairs")


def movable(a, b, x, rc, pi_i, pi_j, pi_t, dem, cap) -> np.ndarray:
    """The pairs whose choice differs between optima: reduced cost 0 and both ends in one
    strongly connected component of the residual arcs of reduced cost 0 of the compiled flow's
    network (mentee ``i`` is node ``i``, mentor ``j`` node ``n + j``, the sink ``n + m``)."""
    if not (rc == 0).any():
        return np.zeros(len(a), dtype=bool)
    c64 = np.ascontiguousarray
    return assign_kernel().movable_pairs(c64(a, np.int64), c64(b, np.int64),
                                         c64(x, bool).view(np.uint8), c64(rc, np.int64),
                                         c64(pi_i, np.int64), c64(pi_j, np.int64), int(pi_t),
                                         c64(dem, np.int64), c64(cap, np.int64))


def _least(a, b, must_i, must_j, big: int, stage: int, bits: int, x, room, dem, kernel):
    """A least-cost flow of the compiled flow's network on the free pairs ``a -> b`` (grouped
    by mentee) of cost ``key - big * (must_i[a] + must_j[b])``, ``key`` the stage's
    (:func:`mentormatch.solvers.ties.stage_keys`: the compiled ``pair_keys``), and potentials
    that prove it, as :func:`mentormatch.solvers.ties.second_flow` finds it: from the pairs of
    small ``key`` (about :data:`PICK_START` a mentee) and those of the flow ``x`` (which meets
    every bound, so the bonus is reached on them), the others joining while one has a negative
    reduced cost under the flow's potentials. Then the potentials prove the flow optimal over
    every pair (a pair left out carries nothing). Returns the flow, the potentials, and the
    pairs of reduced cost ``c + p_i[a] - p_j[b]`` <= 0 under them (positions, reduced costs):
    every other pair's is > 0.

    The passes over the pairs before and after each flow are compiled where built
    (``pick_held``, ``pick_reduced``: the same numbers as the numpy below, in two passes and
    no array of the pairs' size; scores in 4 levels, CPU at load 7-9: 1.5 million free pairs
    at 5,000 x 1,250, about 20 ms of numpy around the flow's 60 to 8.5 ms; 6.2 million at
    10,000 x 2,500, 130-150 ms around its 240 to 30-35 ms).

    The kernel's numbers stay small: costs lie in ``[-2M, 2**bits)``; every mentor here has
    room (``room > 0`` on each pair); the sink's potential stays 0 (it is never scanned), a
    mentor's falls from 0 but a full one's is at least ``pi_u + c_uj >= -2M`` (``pi_u >= 0``:
    each mentee's arc to the sink), a mentee's is at most ``2M`` (a fresh one's start, or
    ``pi_j - c_uj`` for its mentor); a search's labels are at most its sink's, at most the
    fresh mentee's potential. So each label ``d + c + pi_v - pi_u`` and each partial sum is
    below ``8 (M + 2**bits)`` (:data:`LABEL_ROOM`); :func:`pick` checks the potentials it
    gets prove the flow all the same."""
    n = len(dem)
    n_tails = int(np.count_nonzero(np.bincount(a, minlength=n)))
    limit = 2.0 ** bits * PICK_START * max(n_tails, 1) / max(len(a), 1)
    # each flow starts afresh: twice the pairs a mentee next time, so that few flows run
    # (10,000 x 2,500 with scores in 4 levels: 90,282 pairs, then 746 and 1 joined, three
    # flows of about 300 ms; now two)
    if hasattr(kernel, "pick_held"):
        c64 = np.ascontiguousarray
        held = np.asarray(x, bool).astype(np.uint8)  # (a copy: the pairs that join are marked)
        args = (c64(a, np.int64), c64(b, np.int64), c64(must_i, bool).view(np.uint8),
                c64(must_j, bool).view(np.uint8), int(big), int(stage), int(bits))
        while True:
            ptr, part, head, cost = kernel.pick_held(*args, held, limit)
            got, p_i, p_j, p_t = kernel.flow_assign(ptr, head, cost, room, dem)
            near, rc, joined = kernel.pick_reduced(*args, held, limit, p_i, p_j)
            if not joined:
                y = np.zeros(len(a), dtype=bool)
                y[part] = got
                return y, p_i, p_j, p_t, near, rc
            limit *= 2
    key = kernel.pair_keys(np.ascontiguousarray(a, np.int64), np.ascontiguousarray(b, np.int64),
                           int(stage), int(bits))
    c = must_i[a].astype(np.int64)  # key - big * (must_i + must_j), in place
    c += must_j[b]
    c *= -big
    c += key
    held = (key < limit) | x
    while True:
        part = np.flatnonzero(held)
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(a[part], minlength=n), out=ptr[1:])
        got, p_i, p_j, p_t = kernel.flow_assign(ptr, np.ascontiguousarray(b[part], np.int64),
                                                np.ascontiguousarray(c[part], np.int64),
                                                np.ascontiguousarray(room, np.int64), dem)
        rc = p_i[a]  # c + p_i[a] - p_j[b], in place (the same integers: wrapping adds commute)
        rc += c
        rc -= p_j[b]
        join = rc < 0
        join[part] = False
        if not join.any():
            y = np.zeros(len(a), dtype=bool)
            y[part] = got
            near = np.flatnonzero(rc <= 0)
            return y, p_i, p_j, p_t, near, rc[near]
        limit *= 2
        held |= join | (key < limit)


def pick(a, b, cost, x, dem, cap, pot, bits: int, max_stages: int, face_start: int):
    """Steps 2-4 of the rule on the pairs ``a`` (mentee), ``b`` (mentor), grouped by mentee,
    of integer ``cost`` and chosen ``x``, with the certificate's potentials ``pot`` (mentees',
    mentors', source's, sink's) in the same numbering, people numbered by seeded rank (a
    stage's keys are :func:`mentormatch.solvers.ties.stage_keys` of ``a``, ``b`` at ``bits``).
    Returns (the picked flow, its record as
    :func:`mentormatch.solvers.ties.pick_on_face` gives it), or None when ``M`` would overflow
    or the second flow would start from more than :data:`PICK_PAIRS` pairs (the caller runs
    the rule's own second flows)."""
    n, m = len(dem), len(cap)
    pi_i, pi_j = (np.ascontiguousarray(v, np.int64) for v in pot[:2])
    d_s, d_t = int(pot[2]), int(pot[3])
    kernel = assign_kernel()
    if hasattr(kernel, "pair_reduced"):
        rc = kernel.pair_reduced(*(np.ascontiguousarray(v, np.int64) for v in (a, b, cost)),
                                 pi_i, pi_j)
    else:
        rc = pi_i[a]  # cost + pi_i[a] - pi_j[b], in place (the same integers)
        rc += cost
        rc -= pi_j[b]
    check_potentials(a, b, x, rc, dem, cap, d_s, d_t, pi_i, pi_j)
    move = movable(a, b, x, rc, pi_i, pi_j, d_t, dem, cap)
    info = {"movable_pairs": int(move.sum()), "stages": 0, "unique": True, "second_flow_solves": 0}
    if not info["movable_pairs"]:
        return x, info
    # the first stage's bounds, from the certificate's network (the source's arcs, the bypass)
    rc_i, rc_j, rc_b = d_s - pi_i, pi_j - d_t, d_s - d_t
    must_i = (rc_i < 0) | (rc_b > 0)
    out_i = (rc_i > 0) | (rc_b < 0) | (dem <= 0)
    final = x & (rc < 0)  # kept chosen: each takes its mentee and a place of its mentor
    must_j = rc_j < 0
    room = np.where(rc_j > 0, 0, cap) - np.bincount(b[final], minlength=m)
    live = np.flatnonzero(rc == 0)  # the free pairs, and their mentees and mentors
    la, lb = (a, b) if len(live) == len(a) else (a[live], b[live])  # (on ties, often all)
    if face_start * np.count_nonzero(np.bincount(la, minlength=n)) + int(x.sum()) > PICK_PAIRS:
        return None
    while True:
        if info["stages"] == max_stages:
            info["unique"] = False
            return x, info
        info["stages"] += 1
        info["second_flow_solves"] += 1
        done_i = np.bincount(a[final], minlength=n) > 0
        dem_s = np.where(out_i | done_i, 0, 1).astype(np.int64)
        if not ((dem_s > 0).all() and (room > 0).all()):  # (else every free pair stays)
            ok = (dem_s[la] > 0) & (room[lb] > 0)
            live, la, lb = live[ok], la[ok], lb[ok]
        places = min(int(dem_s.sum()), int(room.sum()))
        big = (places + 1) << bits
        if 8 * (big + (1 << bits)) >= LABEL_ROOM:
            return None
        # only the pairs of reduced cost <= 0 come back (``near``, reduced costs ``rc``), few
        # once the keys differ (5,000 x 1,250 with scores in 4 levels: 5,000 of 1.5 million):
        # the others', > 0, decide nothing but whether one of them is chosen
        y, p_i, p_j, p_t, near, rc = _least(la, lb, must_i, must_j, big, info["stages"], bits,
                                            x[live], room, dem_s, kernel)
        if max(np.abs(p_i).max(initial=0), np.abs(p_j).max(initial=0), abs(p_t)) >= POTENTIAL_ROOM:
            return None
        y_near = y[near]
        try:  # the flow is the stage's optimum iff its potentials prove it (the bound above
            # keeps the kernel's labels from wrapping; this does not rely on it)
            if int(y_near.sum()) != int(y.sum()):
                raise ValueError("a chosen pair of reduced cost > 0")
            check_potentials(la[near], lb[near], y_near, rc, dem_s, room, p_t, p_t, p_i, p_j)
        except ValueError:
            return None
        x = final.copy()
        x[live] = y
        if not movable(la[near], lb[near], y_near, rc, p_i, p_j, p_t, dem_s, room).any():
            return x, info
        # the next stage's bounds, from this stage's potentials (module docstring)
        kept = live[near[rc < 0]]
        final[kept] = True
        tight = near[rc == 0]
        live, la, lb = live[tight], la[tight], lb[tight]
        out_i |= (dem_s > 0) & (p_i < p_t)
        must_i = (dem_s > 0) & (p_i > p_t)
        must_j = p_j < p_t
        room = np.where(p_j > p_t, 0, room) - np.bincount(b[kept], minlength=m)
