"""Dual prices from an optimal flow of :func:`mentormatch.solvers.flow.solve_arrays`: the node
potentials (shortest distances in its residual network, integer, by label-correcting sweeps)
and the prices ``u`` (per mentee) and ``p`` (per mentor) in score units that the certificates of
:mod:`mentormatch.solvers.certify`, :mod:`mentormatch.solvers.dense` and
:mod:`mentormatch.solvers.bounded` check every pair against, and the tie rule
(:mod:`mentormatch.solvers.ties`) reads its optimal face from."""
from __future__ import annotations

import math

import numpy as np

from .._native import assign_kernel, flow_kernel


#: up to this many arcs on a side, each sweep relaxes all of them: cheaper than picking out
#: the few that leave the nodes whose distance fell (about ten numpy calls); the same distances
#: and sweeps
ALL_ARCS = 4096
#: Up to this many pairs, a cold :func:`potentials` with every demand at most 1 sweeps the
#: graph of the mentors, the source and the sink alone (:func:`_unit_potentials`), every arc
#: each sweep. CPU time on ``assign()``'s candidates (uniform scores, capacity 4): 200 x 50,
#: 1,689 pairs, 0.52 ms against 0.35; 500 x 125, 1.00 against 0.68; 1,000 x 250, 1.69 against
#: 1.34; 2,000 x 500 (17,839 pairs), 3.12 against 3.31, where the sweeps over the nodes
#: whose distance fell win.
UNIT_ARCS = 1 << 14
#: Up to this many cells of the (mentors + 2)^2 matrix of least arc costs, the sweeps of
#: :func:`_unit_potentials` are one matrix sum and minimum each (:func:`_dense_sweeps`)
#: instead of a handful of gathers and scatters.
UNIT_DENSE_CELLS = 1 << 14
#: the error of a flow whose residual network has a negative cycle (every route says it so)
NOT_OPTIMAL = "Bellman-Ford did not converge: the flow passed in is not optimal"


# --------------------------------------------------------------------------------------------
def potentials(mentee: np.ndarray, mentor: np.ndarray, cost: np.ndarray, chosen: np.ndarray,
               dem: np.ndarray, cap: np.ndarray, start: tuple | None = None,
               cover: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Shortest distances from a virtual root in the residual network of an optimal flow.

    The network is the one of :func:`mentormatch.solvers.flow.solve_arrays` (with bypass); the
    residual arcs are ``mentee -> mentor`` (cost ``cost``) for unchosen pairs, ``mentor ->
    mentee`` (cost ``-cost``) for chosen ones, and the source/sink arcs that still have room.
    Optimality means no negative cycle, so label correcting converges; the costs are integers,
    so the distances are exact and the same whatever the order the arcs are relaxed in.
    Compiled where built (:func:`mentormatch._native.flow.potentials`: a FIFO queue with
    Tarjan's subtree disassembly; the three top-level rounds of ``pair()`` at 100,000 x 20,000,
    1.3-1.4 M pairs, 0.58 s of CPU against 2.02 s), else the numpy sweeps of
    :func:`numpy_potentials`; demand at most 1 from cold and no ``cover``, on up to
    ``UNIT_ARCS`` pairs: :func:`_unit_potentials`.

    ``start`` (integer potentials per mentee, per mentor, of the source and of the sink; a
    previous round's) makes it a warm start: the distances are computed on the reduced costs
    ``c(a, b) + start(a) - start(b)`` and added to ``start``. Any potentials under which every
    residual arc has a reduced cost >= 0 prove the flow optimal, and these do; when ``start`` is
    near such potentials, few distances move (a round that adds nothing settles in 1-2 sweeps;
    after a round that moved many prices, the sweeps are about as many as from cold). The
    result depends on ``start``: it is, for each node ``v``, the least ``start(u) + dist(u,
    v)`` over the nodes ``u`` (``v`` itself included).

    ``cover``: ``coverage_first``'s weight per mentee, or None (the type is stated in
    :mod:`mentormatch.solvers.flow`), each mentee's source arc split into a first unit of cost
    ``-cover[i]`` and the rest at cost 0. An optimal flow fills the first before the rest
    (else a cycle of cost ``-cover[i]``), so the residual arc source -> mentee costs
    ``-cover[i]`` while the mentee has no mentor (0 after), and mentee -> source costs
    ``cover[i]`` when it has exactly one (0 with more).

    Returns
    -------
    d_mentee, d_mentor : ndarray of int64
    d_source, d_sink : int
    sweeps : int
        The passes of the route that ran (numpy's sweeps, or the kernel's passes of its queue:
        about twice as many, as each relaxes one side's arcs); 1 when ``start`` proves the
        flow optimal already.
    """
    if (start is None and cover is None and len(mentee) <= UNIT_ARCS
            and int(np.max(dem, initial=0)) <= 1):
        return _unit_potentials(mentee, mentor, cost, chosen, dem, cap)
    kernel = flow_kernel()
    if kernel is None:
        return numpy_potentials(mentee, mentor, cost, chosen, dem, cap, start, cover)
    got = kernel.potentials(*(np.ascontiguousarray(x, np.int64) for x in (mentee, mentor, cost)),
                            np.ascontiguousarray(chosen, bool).view(np.uint8),
                            np.ascontiguousarray(dem, np.int64), np.ascontiguousarray(cap, np.int64),
                            start, cover)
    if got is None:
        raise RuntimeError(NOT_OPTIMAL)
    return got


def numpy_potentials(mentee, mentor, cost, chosen, dem, cap, start=None, cover=None):
    """:func:`potentials` by numpy sweeps (where the kernel was not built, or
    ``MENTORMATCH_NATIVE=0``): the same distances. Each sweep relaxes, in vectorised gathers,
    only the arcs leaving the nodes whose distance fell in the sweep before (mentees, then
    mentors), and every arc when most nodes did or a side has at most ``ALL_ARCS`` arcs: at
    100,000 x 20,000 this is about 40 % faster than relaxing every arc in every sweep, for the
    same distances and sweeps (the arcs of the other nodes lower nothing). Returns what
    :func:`potentials` does, ``sweeps`` counting these sweeps."""
    n, m = len(dem), len(cap)
    f = np.bincount(mentee[chosen], minlength=n)
    load = np.bincount(mentor[chosen], minlength=m)
    matched = int(f.sum())
    total = int(dem.sum())
    s_to_t, t_to_s = matched > 0, matched < total  # bypass residual arcs
    src_in = f > 0  # mentee -> source
    src_out = np.flatnonzero(f < dem)  # source -> mentee
    sink_in = load < cap  # mentor -> sink
    sink_out = np.flatnonzero(load > 0)  # sink -> mentor
    zi, zj = np.zeros(n, np.int64), np.zeros(m, np.int64)
    pi_i, pi_j, pi_s, pi_t = start if start is not None else (zi, zj, 0, 0)
    # residual arcs by tail, with costs reduced by the start potentials (pairs usually come
    # grouped by mentee: no sort then)
    nc = np.flatnonzero(~chosen)
    a_tail = mentee[nc]
    if len(a_tail) > 1 and not bool(np.all(a_tail[1:] >= a_tail[:-1])):
        nc = nc[np.argsort(a_tail, kind="stable")]
        a_tail = mentee[nc]
    a_cnt = np.bincount(a_tail, minlength=n)  # mentee -> mentor, by mentee
    a_ptr = np.concatenate([[0], np.cumsum(a_cnt)])
    a_head, a_cost = mentor[nc], cost[nc]
    ch = np.flatnonzero(chosen)
    by = mentor[ch]
    # (a stable sort of small integers is a radix sort)
    ch = ch[np.argsort(by.astype(np.uint16) if m <= 1 << 16 else by, kind="stable")]
    b_tail = mentor[ch]
    b_cnt = np.bincount(b_tail, minlength=m)  # mentor -> mentee, by mentor
    b_ptr = np.concatenate([[0], np.cumsum(b_cnt)])
    b_head, b_cost = mentee[ch], -cost[ch]
    if start is not None:
        a_cost = a_cost + pi_i[a_tail] - pi_j[a_head]
        b_cost = b_cost + pi_j[b_tail] - pi_i[b_head]
    to_j, from_j = pi_t - pi_j[sink_out], np.where(sink_in, pi_j - pi_t, 0)
    to_i, from_i = pi_s - pi_i[src_out], np.where(src_in, pi_i - pi_s, 0)
    if cover is not None:  # coverage_first: the first unit's arc (see above)
        cw = np.asarray(cover, np.int64)
        to_i = to_i - np.where(f[src_out] == 0, cw[src_out], 0)
        from_i = from_i + np.where(f == 1, cw, 0)
    s_t, t_s = pi_s - pi_t, pi_t - pi_s

    def out_arcs(ptr, cnt_all, all_tails, nodes):  # the arcs leaving ``nodes``, and their tails
        # most of them, or few arcs in all: every arc (those of the other tails lower nothing:
        # their distances did not fall since their arcs were last relaxed)
        if 3 * len(nodes) > len(ptr) or len(all_tails) <= ALL_ARCS:
            return slice(None), all_tails
        cnt = cnt_all[nodes]
        ends = np.cumsum(cnt)
        pos = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(ptr[nodes] - ends + cnt, cnt)
        return pos, np.repeat(nodes, cnt)

    # label correcting from the virtual root (every distance starts at 0): each sweep relaxes
    # the arcs leaving the nodes whose distance fell since their arcs were last relaxed, in two
    # halves: mentees -> mentors (and -> source), then mentors -> mentees (and -> sink)
    d = [zi.copy(), zj.copy()]  # distances of the mentees, of the mentors
    act = [np.arange(n), np.arange(m)]  # the nodes whose arcs to relax, per side
    hub = [0, 0]  # the distances of the source and of the sink
    dirty = [True, True]  # the source's (sink's) arcs to relax
    big = np.iinfo(np.int64).max
    # per half: the side's arcs by tail (ptr, tails, heads, costs), its arcs out to its hub
    # (which nodes have one, their costs), and the other hub's arcs into the other side
    halves = [(a_ptr, a_cnt, a_tail, a_head, a_cost, src_in, from_i, sink_out, to_j, False),
              (b_ptr, b_cnt, b_tail, b_head, b_cost, sink_in, from_j, src_out, to_i, bool(f.max(initial=0) <= 1))]

    def bypass():  # the source <-> sink arcs
        for _ in range(2):
            if s_to_t and hub[0] + s_t < hub[1]:
                hub[1], dirty[1] = hub[0] + s_t, True
            if t_to_s and hub[1] + t_s < hub[0]:
                hub[0], dirty[0] = hub[1] + t_s, True

    for sweep in range(1, n + m + 3):
        for k, (ptr, cnt, arc_tail, arc_head, arc_cost, exits, exit_cost, entry, entry_cost,
                unique_heads) in enumerate(halves):
            other = 1 - k
            pos, tl = out_arcs(ptr, cnt, arc_tail, act[k])
            new = d[other].copy()
            h, via_arc = arc_head[pos], d[k][tl] + arc_cost[pos]
            if unique_heads:  # one arc into each head (a mentee with one mentor): no ufunc.at
                new[h] = np.minimum(new[h], via_arc)
            else:
                np.minimum.at(new, h, via_arc)
            x = act[k][exits[act[k]]]
            via = int((d[k][x] + exit_cost[x]).min(initial=big))  # the best way to this side's hub
            if via < hub[k]:
                hub[k], dirty[k] = via, True
            bypass()
            if dirty[other]:  # the other hub -> the other side
                new[entry] = np.minimum(new[entry], hub[other] + entry_cost)
                dirty[other] = False
            fell = new < d[other]
            fell[act[other]] = True  # (only the mentors at the start: every side's set is
            act[other] = np.flatnonzero(fell)  # emptied once relaxed)
            act[k] = act[k][:0]
            d[other] = new
        if not len(act[0]) and not dirty[1]:
            di, dj = d
            return di + pi_i, dj + pi_j, hub[0] + pi_s, hub[1] + pi_t, sweep
    raise RuntimeError(NOT_OPTIMAL)


def _unit_potentials(mentee, mentor, cost, chosen, dem, cap):
    """:func:`potentials` (cold, no ``cover``) when every mentee has demand at most 1: the same
    shortest distances, by sweeps over the mentors, the source and the sink alone.

    With demand <= 1 a mentee's residual arcs in are few and fixed: from its one mentor
    (``j(i) -> i``, cost ``-c_ij(i)``) when matched, from the source (cost 0) when unmatched
    with room, and the root's (0). So its distance is ``min(0, d(j(i)) - c_ij(i))``, or
    ``min(0, d_source)``, or 0, and each path through it is one arc of a smaller graph: ``j(i)
    -> j`` of cost ``c_ij - c_ij(i)`` for each unchosen pair ``(i, j)`` of a matched mentee,
    ``source -> j`` of cost ``min c_ij`` over the unmatched mentees with room, ``j(i) ->
    source`` of cost ``-c_ij(i)``, and the root's ``min(0, min_i c_ij)`` per mentor. Each sweep
    relaxes every arc of that graph in a third of the numpy calls of a sweep of
    :func:`potentials` (as many sweeps: a sweep there relaxes both halves).

    Compiled where built (:func:`mentormatch._native.assign.unit_potentials`: the same
    distances and sweeps; 200 x 50's candidates: about 0.03 ms against 0.3), else these sweeps."""
    kernel = assign_kernel()
    if kernel is not None:
        got = kernel.unit_potentials(*(np.ascontiguousarray(x, np.int64) for x in (mentee, mentor, cost)),
                                     np.ascontiguousarray(chosen, bool).view(np.uint8),
                                     np.ascontiguousarray(dem, np.int64), np.ascontiguousarray(cap, np.int64))
        if got is None:
            raise RuntimeError(NOT_OPTIMAL)
        return got
    n, m = len(dem), len(cap)
    f = np.bincount(mentee[chosen], minlength=n)
    load = np.bincount(mentor[chosen], minlength=m)
    matched, total = int(f.sum()), int(dem.sum())
    s_to_t, t_to_s = matched > 0, matched < total  # the bypass's residual arcs
    none = np.iinfo(np.int64).max >> 2  # no arc (a sum with it stays far from overflow)
    ch = np.flatnonzero(chosen)
    mate = np.full(n, -1, np.int64)  # each matched mentee's mentor
    mate[mentee[ch]] = mentor[ch]
    back = np.zeros(n, np.int64)  # the cost of the arc from it: j(i) -> i
    back[mentee[ch]] = -cost[ch]
    nc = np.flatnonzero(~chosen)
    ti, hj, c = mentee[nc], mentor[nc], cost[nc]
    root = np.zeros(m, np.int64)  # root -> any mentee (0) -> j
    np.minimum.at(root, hj, c)
    room = (f < dem)[ti]  # source -> unmatched mentee (0) -> j
    from_source = np.full(m, none)
    np.minimum.at(from_source, hj[room], c[room])
    to_source = np.full(m, none)  # j -> its mentee -> source (0)
    np.minimum.at(to_source, mentor[ch], -cost[ch])
    via = mate[ti] >= 0  # j(i) -> i -> j
    a_tail, a_head, a_cost = mate[ti[via]], hj[via], back[ti[via]] + c[via]
    to_sink = np.flatnonzero(load < cap)  # j -> sink (0)
    from_sink = load > 0  # sink -> j (0)
    if (m + 2) ** 2 <= UNIT_DENSE_CELLS:
        d, ds, dt, sweep = _dense_sweeps(root, (a_tail, a_head, a_cost), from_source, from_sink,
                                         to_source, to_sink, s_to_t, t_to_s, none)
    else:
        d, ds, dt = root, 0, 0
        for sweep in range(1, m + 4):
            new = d.copy()
            np.minimum.at(new, a_head, d[a_tail] + a_cost)
            np.minimum(new, ds + from_source, out=new)
            new[from_sink] = np.minimum(new[from_sink], dt)
            new_s = min(ds, int((d + to_source).min(initial=none)), dt if t_to_s else none)
            new_t = min(dt, int(d[to_sink].min(initial=none)), ds if s_to_t else none)
            if new_s == ds and new_t == dt and bool((new == d).all()):
                break
            d, ds, dt = new, new_s, new_t
        else:
            raise RuntimeError(NOT_OPTIMAL)
    di = np.where(f < dem, ds, 0).astype(np.int64)
    on = mate >= 0
    di[on] = d[mate[on]] + back[on]
    return np.minimum(di, 0), d, ds, dt, sweep


def _dense_sweeps(root, arcs, from_source, from_sink, to_source, to_sink, s_to_t: bool,
                  t_to_s: bool, none: int):
    """The sweeps of :func:`_unit_potentials` on its graph held as a (m + 2) x (m + 2) matrix
    of least arc costs (mentors, then the source and the sink; ``none`` where there is no
    arc): each sweep is one sum and one column minimum, the same Jacobi step (every node from
    the last sweep's distances), so the same distances after the same number of sweeps."""
    m = len(root)
    src, snk, size = m, m + 1, m + 2
    a_tail, a_head, a_cost = arcs
    w = np.full(size * size, none, np.int64)
    np.minimum.at(w, a_tail * size + a_head, a_cost)  # parallel arcs: the cheapest
    w = w.reshape(size, size)
    w[src, :m] = from_source
    w[snk, np.flatnonzero(from_sink)] = 0
    w[:m, src] = to_source
    w[to_sink, snk] = 0
    if t_to_s:
        w[snk, src] = 0
    if s_to_t:
        w[src, snk] = 0
    d = np.concatenate([root, [0, 0]]).astype(np.int64)
    for sweep in range(1, m + 4):
        new = np.minimum(d, (d[:, None] + w).min(axis=0))
        if bool((new == d).all()):
            return d[:m], int(d[src]), int(d[snk]), sweep
        d = new
    raise RuntimeError(NOT_OPTIMAL)


def start_from_prices(u: np.ndarray, p: np.ndarray, scale: float) -> tuple:
    """Integer potentials (see :func:`potentials`) from prices in score units: a warm start."""
    iu, ip = (np.round(np.where(np.isfinite(x), x, 0.0) * scale).astype(np.int64) for x in (u, p))
    return iu, -ip, 0, 0


def prices(mentee, mentor, cost, chosen, score, dem, cap, scale, start: tuple | None = None,
           cover: np.ndarray | None = None):
    """Dual prices ``u`` (per mentee) and ``p`` (per mentor) in score units, their dual
    objective ``sum d u + sum c p + sum_chosen max(0, s - u - p)``, the Bellman-Ford sweeps and
    the integer potentials behind them (a warm ``start`` for the next round, at the same
    ``scale``).

    People with no room left (``d_i = 0`` or ``c_j = 0``) get price ``+inf``: their pairs cannot
    be used, and the dual objective counts ``0 * inf`` as 0.

    ``cover``: ``coverage_first``'s integer weight per mentee or None (the type is stated in
    :mod:`mentormatch.solvers.flow`; ``W = cover / scale`` in score units); the
    network of :func:`mentormatch.solvers.flow.solve_arrays` with each mentee's source arc
    split). The objective is then ``max sum s x + W #{i : f_i >= 1}`` with ``f_i = sum_j x_ij
    <= d_i``, and a mentee's price ``u_i`` may be negative, down to ``-W``. The bound: for any
    assignment ``x`` and prices with ``r_ij = s_ij - u_i - p_j``,

        sum s x + W #matched  =  sum_i (u_i f_i + W [f_i >= 1]) + sum_j p_j load_j + sum r x
                              <= sum_i max(0, W + u_i + (d_i - 1) max(0, u_i))
                                 + sum_j c_j p_j + sum_{x=1} max(0, r)

    (each mentee's term maximised over ``f_i`` in ``0..d_i``: none, or one then all the others
    when ``u_i > 0``). The objective returned is that right-hand side (chosen pairs' ``r``)
    less ``W`` times the mentees the flow matches, computed per mentee (``u_i + (d_i - 1)
    max(0, u_i)`` for a matched one) so no large number is subtracted: a bound on the total of
    any assignment that matches at least as many mentees, the lexicographic optimum's included.
    """
    di, dj, ds, dt, sweeps = potentials(mentee, mentor, cost, chosen, dem, cap, start, cover)
    return (*prices_at((di, dj, ds, dt), mentee, mentor, chosen, score, dem, cap, scale, cover),
            sweeps, (di, dj, ds, dt))


def prices_at(pot: tuple, mentee, mentor, chosen, score, dem, cap, scale,
              cover: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`prices`' ``u``, ``p`` and dual objective from integer potentials ``pot``
    (mentees', mentors', source's, sink's) at ``scale`` that prove the flow ``chosen``
    optimal: those :func:`potentials` finds, or a compiled flow's own
    (:func:`mentormatch.solvers.dense.flow.round_flow`), with no sweep. Any prices ``u, p >=
    0`` bound every assignment (the docstring of :func:`prices`); potentials that prove the
    flow optimal make the dual objective the flow's integer optimum, rounding aside, whichever
    they are. ``chosen`` indexes ``mentee``, ``mentor`` and ``score``: a mask, positions, or
    ``slice(None)`` when they hold the chosen pairs only (the small path's: no copies)."""
    di, dj, ds, dt = pot
    if cover is None and ds == dt and isinstance(chosen, slice) and chosen == slice(None):
        found = _compiled_prices(di, dj, ds, scale, mentee, mentor, score, dem, cap)
        if found is not None:
            return found
    best = None
    has = cover is not None
    if has:  # (read under coverage_first only)
        W = np.asarray(cover, np.float64) / scale
        matched = np.bincount(mentee[chosen], minlength=len(dem)) > 0
    for k_ in sorted({ds, dt}):
        if has:  # u_i >= -W costs nothing (its term is 0 either way) and loosens no pair
            u = np.maximum(-W, (di - k_) / scale)
        else:
            u = np.maximum(0.0, (di - k_) / scale)
        p = np.maximum(0.0, (k_ - dj) / scale)
        w = np.maximum(0.0, score[chosen] - u[mentee[chosen]] - p[mentor[chosen]])
        if has:
            rest = u + (dem - 1) * np.maximum(0.0, u)
            term = np.where(matched, np.maximum(-W, rest), np.maximum(0.0, W + rest))
            # terms of size W cancel (a full mentor's price near W against its mentees' -W):
            # each term is exact (integers over a power of two), fsum adds them exactly rounded
            obj = math.fsum(np.concatenate([term[dem > 0], (cap * p)[cap > 0], w]))
        else:
            obj = float(dem @ u + cap @ p + w.sum())
        if best is None or obj < best[2]:
            best = (u, p, obj)
    u, p, obj = best
    u = np.where(dem > 0, u, np.inf)
    p = np.where(cap > 0, p, np.inf)
    return u, p, obj


def _compiled_prices(di, dj, k: int, scale: float, mentee, mentor, score, dem, cap):
    """:func:`prices_at` for one potential ``k`` of the source and sink and the chosen pairs
    alone (the small path's case) by its compiled twin
    (:func:`mentormatch._native.assign.flow_prices`: the same floats, the sums numpy's as
    here; in the call at 200 x 50, prices_at 13-14 us against 24; s31h2), or None (no build, or
    arrays it does not take) for the numpy code."""
    kernel = assign_kernel()
    if kernel is None or not hasattr(kernel, "flow_prices"):
        return None
    try:
        u, p, w, u_out, p_out = kernel.flow_prices(di, dj, int(k), float(scale), mentee, mentor,
                                                   score, dem, cap)
    except (TypeError, ValueError):  # (another dtype or a strided view)
        return None
    return u_out, p_out, float(dem @ u + cap @ p + w.sum())
