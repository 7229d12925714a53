#!/usr/bin/env python
"""The top level's rounds of ``pair()`` replayed from its first pass, with the first sparse set
ranked (and the first potentials started) by other prices: to measure what better first prices
would buy before building them (a 100,000 x 20,000 ``pair()`` is 37 s CPU; a replay 15-20 s).

    PYTHONPATH=src python benchmarks/first_replay.py capture 100000x20000:5 /tmp/first
    PYTHONPATH=src python benchmarks/first_replay.py replay /tmp/first --rank guide
    PYTHONPATH=src python benchmarks/first_replay.py replay /tmp/first --rank final-by:city --pass
    PYTHONPATH=src python benchmarks/first_replay.py replay /tmp/first --adjust

``capture`` runs ``pair()`` (synthetic organisation, seed 1, every capacity c) and pickles what
the top level's first sparse set is built from (the pools, each mentor's best rows, the outer
sub-market's prices ``g``, ``k``), the scorer, and the top level's final prices ``p*`` (the
optimum's), then prints the pairs' digest. ``replay`` builds the first sparse set from the
pools ranked by ``--rank`` prices and runs the certified rounds as ``pair()`` does (the
checker, the warm repairs): per round, the flow's CPU (cold or repaired), the first check's
true violators (gain above the tolerance; the rest of what a check returns are near pairs) by
where they lie (outside the pools, in a pool below the first ``k_first``), the pairs added,
and the final pairs' digest (the same for every choice: any prices are safe). ``--adjust``:
the first prices adjusted and checked before the first flow (:func:`.tatonnement.prechecked`,
as ``pair()`` does; its CPU printed; with the pools' mentor groups, how many of round 1's true
violators point into another group than their row's chosen mentor's: at 200,000 x 40,000 with
s29's 60 sweeps, 84 % of 2,707, and 1,972 into one group, s30h4): at 100,000 x 20,000 the replay gives ``pair()``'s sparse
set (1,366,920 pairs), round 1 adding 13,380 and 2 rounds. The capture keeps the pools' mentor
groups and their floors (:mod:`.groups`; before s29h3 it did not, and a replay's checks took
the one-floor guard: 16,632 rows scanned in full and 136 M pairs re-checked at the adjusted
prices, against none and 44.9 M in ``pair()``). ``--rank``:
``guide`` (today's), ``final`` (``p*``: the oracle), ``final-by:COLUMN`` (``g`` plus the mean of
``p* - g`` over the mentors sharing a value of that mentors' column: the oracle shift per
group), ``file:PATH.npy``. ``--pass``: a fresh first pass at the same prices (today's pass is
ranked by the inner sub-market's prices; ``guide`` then means the outer's).

What s28h1 found with it at 100,000 x 20,000 (c=5; load 6-11; CPU): today, round 1 finds
11,730 true violators (4,357 outside the pools, 7,371 in them beyond the first 12) and adds
96,656 pairs, round 2 is cold (3.7-4.3 s) and adds 15,511, round 3 a repair of 19 violators.

| sparse set ranked by | true violators, round 1 (outside pools) | added | round 2 | rounds |
|---|---|---|---|---|
| ``g`` (today) | 11,730 (4,357) | 96,656 | cold | 3 |
| ``final-by:city`` | 11,391 (4,138) | 95,642 | cold | 3 |
| ``final-by:city``, pass too | 12,062 (4,711) | 95,822 | cold | 3 |
| ``final`` (oracle) | 6,072 (3,721) | 45,508 | repair of 6,158: 3.4 s against 4.3 cold | 3 |
| ``final``, pass too | 2,667 (24) | 39,428 | repair of 2,733 | 3 |
| a sub-market of demand 1 and a fifth of the places | 141,474 (110,836) | 232,837 | cold | 4 |
| 60 sweeps of tatonnement per mentor (``.tatonnement.adjusted``) | 5,670 (3,697) | 47,707 | repair of 5,746: 4.0 s against 4.9 cold | 3 |
| the same, then a check at them before the first flow (``.tatonnement.prechecked``, now in ``pair()``) | 199 (42) | 13,180 | repair of 203: 2.1 s | 2 |

A shift per city, even the oracle's, changes nothing: 78 % of the pools' pairs (86 % of each
row's first 12) are in the mentee's own city, so a row's ranking barely sees its city's level. The per-mentor error within a city is what
counts, and even perfect prices leave round 2 a repair about as costly as a cold flow while the
pools (ranked by the inner sub-market's prices) miss the pairs outside them: hence the check at
the adjusted prices before the first flow. This replay runs the rounds as captured, without that
check: ``--rank file:`` with prices saved from ``.tatonnement.adjusted`` measures the ranking alone.
"""
from __future__ import annotations

import hashlib
import pickle
import sys
import time
from pathlib import Path

import numpy as np


def capture(size: str, out: Path) -> None:
    import mentormatch.solvers.bounded as top

    n, rest = size.split("x")
    m, c = rest.split(":")
    n = int(n)
    out.mkdir(parents=True, exist_ok=True)
    first_sparse, rounds, saved = top._first_sparse, top.certified_rounds, {}

    def hooked_first(scorer, exact, pool, mentor_best, guide, k, cap, cover=False):
        if scorer.n == n:  # (the top level; the sub-markets have fewer rows)
            saved.update(cols=pool.cols.copy(), vals=pool.vals.copy(), floor=pool.floor.copy(),
                         gen=pool.gen.copy(), prices=[q.copy() for q in pool.prices], mentor_best=mentor_best,
                         groups=pool.groups, group_floor=None if pool.group_floor is None else pool.group_floor.copy(),
                         guide=None if guide is None else guide.copy(), k_first=k, cap=cap.copy(), cover=cover)
        return first_sparse(scorer, exact, pool, mentor_best, guide, k, cap, cover)

    def hooked_rounds(sp, cap, dem, checker, options, k, **kw):
        inner = getattr(checker, "inner", checker)  # (a Timed checker wraps it)
        if kw.get("indent") != "" or inner.settle is not None:
            return rounds(sp, cap, dem, checker, options, k, **kw)
        saved.update(dem=dem.copy(), k=k, li=inner.li, lj=inner.lj)
        with open(out / "first.pkl", "wb") as f:
            pickle.dump(saved, f, protocol=5)
        with open(out / "scorer.pkl", "wb") as f:
            pickle.dump(inner.scorer, f, protocol=5)
        done = rounds(sp, cap, dem, checker, options, k, **kw)
        with open(out / "final.pkl", "wb") as f:
            pickle.dump({"prices": done.prices}, f, protocol=5)
        return done

    top._first_sparse, top.certified_rounds = hooked_first, hooked_rounds
    from check_replay import pair_once  # (this folder's: run as a script)

    result, digest = pair_once(n, m, c)
    print(f"captured; pairs sha {digest}, objective {float(result.objective)!r}")


def _prices(rank: str, scorer, saved: dict, final: np.ndarray) -> np.ndarray:
    g = saved["guide"]
    if rank == "guide":
        return g
    if rank == "final":
        return final
    if rank.startswith("final-by:"):
        group = np.unique(scorer.mentors[rank.split(":", 1)[1]].to_numpy(), return_inverse=True)[1].ravel()
        ok = np.isfinite(final) & np.isfinite(g)
        shift = np.bincount(group[ok], (final - g)[ok], len(g)) / np.maximum(np.bincount(group[ok], None, len(g)), 1)
        return g + shift[group]
    if rank.startswith("file:"):
        return np.load(rank.split(":", 1)[1])
    raise ValueError(f"--rank must be guide, final, final-by:COLUMN or file:PATH, got {rank!r}")


def replay(folder: Path, rank: str, fresh_pass: bool, k_first: int | None, adjust: bool = False) -> None:
    import mentormatch.solvers.rounds as rounds
    from mentormatch.solvers.base import SolverOptions
    from mentormatch.solvers.bounded.check import _Certifier
    from mentormatch.solvers.bounded.exact import _Exact
    from mentormatch.solvers.bounded.first import _first_pass, _first_sparse
    from mentormatch.solvers.bounded.passes import _Pool
    from mentormatch.solvers.bounded.tatonnement import prechecked
    from mentormatch.solvers.warm import resolve

    with open(folder / "scorer.pkl", "rb") as f:
        scorer = pickle.load(f)
    with open(folder / "first.pkl", "rb") as f:
        s = pickle.load(f)
    with open(folder / "final.pkl", "rb") as f:
        final = np.asarray(pickle.load(f)["prices"][1], np.float64)
    cap, dem, k = s["cap"], s["dem"], s["k"]
    kf = s["k_first"] if k_first is None else k_first
    c0 = time.process_time()
    price = _prices(rank, scorer, s, final)
    pool = _Pool(s["cols"].copy(), s["vals"].copy(), s["floor"].copy(), s["gen"].copy(), [q.copy() for q in s["prices"]],
                 s.get("groups"), None if s.get("group_floor") is None else s["group_floor"].copy())
    mentor_best = s["mentor_best"]
    if fresh_pass:
        pool, mentor_best, _ = _first_pass(scorer, price, None, pool.cols.shape[1], min(k, 2 * int(cap.max()) + 2),
                                           cap, dem, s["li"], s["lj"], False)
        print(f"fresh first pass: {time.process_time() - c0:.2f} s CPU")
    cols0, rank0 = pool.cols.copy(), pool.vals + np.where(cap > 0, pool.prices[0] - price, 0.0)[pool.cols]
    exact = _Exact(scorer)
    sp = _first_sparse(scorer, exact, pool, mentor_best, price, kf, cap, s["cover"])
    gp = np.where(cap > 0, price, 0.0)
    gu = np.zeros(scorer.n)
    np.maximum.at(gu, sp.i, sp.s - gp[sp.j])
    checker = _Certifier(scorer, exact, pool, s["li"], s["lj"], False, facts={"work": {}})
    if adjust:  # as pair() does: the prices adjusted, the set ranked again, checked at them
        t, c = time.perf_counter(), time.process_time()
        sp, (gu, gp) = prechecked(scorer, exact, pool, mentor_best, sp, price, kf, cap, dem, checker, k)
        print(f"first prices adjusted and checked: {time.process_time() - c:.2f} s CPU, "
              f"{time.perf_counter() - t:.2f} s wall, sparse set {len(sp.i)} pairs")
    check, cold, checks = checker.check, rounds.solve_arrays, []

    def timed_check(u, p, chosen, tol, per_row):
        viol, eps = check(u, p, chosen, tol, per_row)
        if not checks:  # the first check: where its true violators lie
            true = viol.s - u[viol.i] - p[viol.j] > tol
            vi, vj = viol.i[true], viol.j[true]
            at = cols0[vi] == vj[:, None]
            place = np.argmax(at, axis=1)
            inside = at.any(axis=1)
            order = np.argsort(-rank0[vi], axis=1)  # each violator's place in its row's ranking
            pos = np.argmax(order == place[:, None], axis=1)
            print(f"  check 1: {int(true.sum())} true violators in {len(np.unique(vi))} rows: "
                  f"{int((~inside).sum())} outside the pools, {int((inside & (pos >= kf)).sum())} in a pool "
                  f"below the first {kf}")
            if s.get("groups") is not None:  # pairs into another mentor group than the row's chosen mentor's
                of = s["groups"].of
                own = np.full(scorer.n, -1)
                own[chosen.i] = chosen.j
                across = (own[vi] >= 0) & (of[vj] != of[np.maximum(own[vi], 0)])
                most = np.bincount(of[vj], minlength=s["groups"].count)
                print(f"  check 1: {int(across.sum())} into another mentor group than the row's chosen mentor's; "
                      f"{int(most.max(initial=0))} into the group most violators point at")
        checks.append(1)
        return viol, eps

    def timed_cold(*a, **kw):
        t = time.process_time()
        out = cold(*a, **kw)
        print(f"  cold flow: {time.process_time() - t:.2f} s CPU")
        return out

    def timed_repair(*a, **kw):
        t = time.process_time()
        out = resolve(*a, **kw)
        print(f"  repair: {time.process_time() - t:.2f} s CPU ({'solved cold' if out is None else 'done'})")
        return out

    checker.check, rounds.solve_arrays = timed_check, timed_cold
    work = {}
    try:
        out = rounds.certified_rounds(sp, cap, dem, checker, SolverOptions(), k, warm=(gu, gp), repair=timed_repair,
                                      work=work, say=lambda f, *a: print(f % a))
    finally:
        rounds.solve_arrays = cold
    sp = out.sparse
    code = np.sort(sp.i[out.chosen] * scorer.m + sp.j[out.chosen])
    print(f"{rank}{' (fresh pass)' if fresh_pass else ''}: {out.certificate['rounds']} rounds, optimal {out.optimal}, "
          f"{time.process_time() - c0:.2f} s CPU (flows {work['cpu']['flows']:.2f}, checks {work['cpu']['checks']:.2f}), "
          f"chosen pairs sha {hashlib.sha256(code.tobytes()).hexdigest()[:12]}")


def main(argv=None) -> int:
    from check_replay import capture_replay_parser  # (this folder's: run as a script)

    ap, _, b = capture_replay_parser(__doc__)
    b.add_argument("--rank", default="guide")
    b.add_argument("--pass", dest="fresh_pass", action="store_true")
    b.add_argument("--k-first", type=int, default=None)
    b.add_argument("--adjust", action="store_true",
                   help="the first prices adjusted and checked before the first flow, as pair() does")
    args = ap.parse_args(argv)
    if args.what == "capture":
        capture(args.size, args.folder)
    else:
        replay(args.folder, args.rank, args.fresh_pass, args.k_first, args.adjust)
    return 0


if __name__ == "__main__":
    sys.exit(main())
