"""Leximin (``"leximin"``) over every pair of a pair source, no pair list held: the flow leximin
of :mod:`mentormatch.solvers.leximin` on a set of pairs, proven over every pair by its
lexicographic certificate (:mod:`mentormatch.solvers.leximin_steps`), the set grown until the
proof holds. The rounds, as the certified flow's (DESIGN.md, "The engine")::

    max-min over every pair (bottleneck's certified flows): the most pairs M, the max-min
    level t, and the pairs of its last flow  ->  the flow leximin on the pairs held, steps
    recorded  ->  every pair of level >= t judged against the steps: violators?
    --yes-->  add each mentee's best violators, next round
    --no--->  the tie rule on the final network with the tight pairs outside: optimal

Why it is exact: the steps are a lexicographic dual certificate of the run's assignment over
the pairs it held. A pair outside of reduced cost ``>= 0`` at every step keeps every step's
conclusion true over the larger network (each step's potentials stay feasible, each level's
minimum stays what it was), so when no pair outside is a violator the assignment is leximin-
optimal over every pair; the tight pairs outside are exactly those that some other leximin-
optimal assignment uses, so the tie rule sees the whole optimal set and picks the pairs the
complete set's flow leximin picks. Pairs below ``t`` are in no leximin-optimal assignment (the
max-min flow witnesses ``M`` pairs at ``t`` or above).

Levels are :func:`~mentormatch.solvers.leximin_keys.level_keys` at
:func:`~mentormatch.solvers.leximin_keys.level_scale` (six significant digits of the largest
score, a coarse level split at 30 significant bits), a function of each score alone, so that
pairs outside the run are judged in the run's levels: the same order and ties as on the
complete set whenever the scores have at most six decimals.
Each round scores exactly, on bounds, only the pairs whose bound does not clear them
(:meth:`~mentormatch.solvers.leximin_steps.Lex.needs_score`).

Cost (synthetic organisations, default features, a 2-core machine loaded 9-19 by other work,
so CPU is the figure to compare): 3,000 x 1,500 optimal in 11 s CPU (14 s with the judging
before its one-lookup first differences, 18 s with the max-min's 13 flows, 38 s before the
path searches tried every unit of a level and Bellman-Ford replaced the min-cost flows): the
max-min's 3 flows, then four rounds of the flow leximin on about 26,000 pairs (1,058, 113,
18, then no violators; each round's flow leximin 1.6-1.8 s CPU, was 7.7 s). At 20,000 x 5,000
the first round's flow leximin on 244,223 pairs takes 82 s CPU (was about 300 s: 10-12 min of
wall time at 45 % CPU), 38,360 path searches and 1,269 levels proven by potentials, no
min-cost flow. The whole ``pair()`` is proven optimal in 305 s CPU and 1.1 GB (load 5-7;
358 s before the judging's one-lookup first differences and one-compare screen):
the max-min in 3 certified flows (about 90 s; it took 12 flows and about 270 s before its
thresholds were guessed from the pairs seen), then five rounds (7,551, 323, 46, 4, then no
violators; 250,750 pairs held, 1,917 coordinates, 2 tight pairs outside). Before, with a
limit of 3,000 s (max-min included), the first round did not finish at this load, and four
did not at load 5.

The time limit (``options.time_limit``) covers the max-min and every round; when it stops the
rounds, the answer is ``"feasible"``: the most pairs and the best worst pair are proven over
every pair (the max-min), and the assignment is leximin-optimal over the pairs held.
Handled as max-min is: unit loads, whole capacities, demands, locks, no side constraints.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .base import AssignmentProblem, Solution, SolverOptions, finish, held_problem
from .leximin_keys import key_floor, key_labels, level_keys, level_scale
from .topk import top_k

log = logging.getLogger(__name__)

__all__ = ["solve_leximin_source"]

#: Violators added per mentee and round (the best-scoring ones).
PER_ROW = 8
#: At most this many rounds.
MAX_ROUNDS = 200
#: The pairs held first: the max-min's final set (``"sparse"``) or only its chosen pairs
#: (``"chosen"``: tests, so that the rounds must find the violators).
FIRST = "sparse"




def _judge(source, lex, held: np.ndarray, m: int, t_level: int, scale: int):
    """Every pair of ``source`` of level ``>= t_level`` outside ``held`` (sorted codes
    ``mentee * m + mentor``, locks included), judged by ``lex``: (violators, tight pairs) as
    ``(mentee, mentor, score)`` arrays, and the pairs scored exactly."""

    lowest = key_floor(t_level, scale)

    def screen(mentees: np.ndarray, up: np.ndarray) -> np.ndarray:
        # a pair's highest possible level: the key of its bound (the keys are monotone). The
        # block is compared once with the least score of level t_level, and the keys are
        # taken where a pair may reach it
        need = up >= lowest
        r, c = np.nonzero(need)
        top = level_keys(up[r, c], scale)
        reach = top >= t_level
        need[r[~reach], c[~reach]] = False
        r, c, top = r[reach], c[reach], top[reach]
        need[r, c] = lex.needs_score(np.asarray(mentees, np.int64)[r], c, top)
        return need

    viol, tight, scored = [], [], 0
    for i, j, s in source.blocks(screen):
        scored += len(i)
        lv = level_keys(s, scale)
        code = i * m + j
        at = np.minimum(np.searchsorted(held, code), max(len(held) - 1, 0))
        keep = (lv >= t_level) & ~((held[at] == code) if len(held) else np.zeros(len(i), bool))
        i, j, s, lv = i[keep], j[keep], s[keep], lv[keep]
        if not len(i):
            continue
        v, t = lex.judge(i, j, lv)
        viol.append((i[v], j[v], s[v]))
        tight.append((i[t], j[t], s[t]))

    def join(parts):
        return tuple(np.concatenate([p[k] for p in parts]) if parts else
                     np.zeros(0, np.int64 if k < 2 else np.float64) for k in range(3))

    return join(viol), join(tight), scored


def solve_leximin_source(scorer, source, capacity, *, n_mentees: int, n_mentors: int, demand=None,
                         locked=None, options: SolverOptions | None = None, cover: bool = False
                         ) -> tuple[AssignmentProblem, Solution]:
    """Leximin over every pair: (the final problem, its solution), as
    :func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer` returns them.

    ``scorer``: a block scorer (``rows -> scores``, ``-inf`` where ineligible) or a
    :class:`mentormatch.scale.BoundedScorer`, for the max-min's certified flows; ``source``: the
    same pairs as a pair source (:mod:`mentormatch.solvers.sources`; mentees and mentors by the
    caller's indices), for the rounds' judgement. ``status`` is ``"optimal"`` only when the
    certificate holds over every pair (see the module docstring). ``cover``: ``coverage_first``,
    the most matched mentees first: the max-min's flows and the flow leximin count mentees
    (:mod:`mentormatch.solvers.leximin`); the steps' potentials of mentees and mentors judge a
    pair as before (a pair arc touches no source node)."""
    from .bottleneck import solve_maxmin_scorer
    from .leximin_flow import _flow_leximin

    options = options or SolverOptions()
    started = time.perf_counter()
    limit = options.time_limit
    deadline = options.deadline(started)  # (from pair()'s call when set; messages quote the limit)
    n, m = n_mentees, n_mentors
    mm_problem, mm = solve_maxmin_scorer(scorer, capacity, n_mentees=n, n_mentors=m, demand=demand,
                                         locked=locked, options=options, cover=cover,
                                         exact_total=False)
    P = mm_problem.pairs
    lk = np.asarray(mm_problem.locked, bool)
    li, lj, ls = P.mentee[lk], P.mentor[lk], mm_problem.score[lk]
    cert = {"method": "the flow leximin on a set of pairs, proven over every pair by its "
                      "lexicographic certificate", "maxmin": {k: mm.certificate.get(k) for k in
                                                              ("threshold", "flows", "holds",
                                                                     "first_flow_bound", "mentor_ceilings",
                                                                     "row_ceilings")
                                                              if k in mm.certificate},
            "rounds": 0, "pairs_held": 0, "violators_added": 0, "pairs_scored": 0,
            "tight_pairs_outside": 0, "holds": False, "timed_out": False}
    if not mm.certificate.get("holds"):  # (the count and the threshold; its total is not used)
        return mm_problem, finish(mm_problem, mm.chosen, "feasible", started, "leximin",
                                  certificate={**cert, "maxmin": mm.certificate,
                                               "timed_out": bool(mm.certificate.get("timed_out"))},
                                  message="the max-min was not proven: " + (mm.message or ""))
    free = ~lk
    fi, fj, fs = P.mentee[free], P.mentor[free], mm_problem.score[free]
    chosen_free = np.isin(np.flatnonzero(free), mm.chosen)
    scale = level_scale(float(np.abs(mm_problem.score).max(initial=0.0)))
    flev = level_keys(fs, scale)
    # the pairs held first: the max-min's at its worst chosen level or above (a lock below the
    # max-min lowers the chosen free pairs' worst too: its flow is the total at the lock's score)
    t_level = int(flev[chosen_free].min()) if chosen_free.any() else np.iinfo(np.int64).max
    M = int(chosen_free.sum())
    keep = (flev >= t_level) & (chosen_free if FIRST == "chosen" else True)
    si, sj, ss = fi[keep], fj[keep], fs[keep]  # the pairs held (free)
    while True:
        cert["rounds"] += 1
        problem = held_problem(si, sj, ss, li, lj, ls, capacity, demand, n, m, cover)
        t_run = time.perf_counter()
        sol, run = _flow_leximin(problem, t_run, limit, scale=scale, record=True, deadline=deadline)
        t_run = time.perf_counter() - t_run
        cert["pairs_held"] = int(len(si))
        if run.steps is None or (deadline is not None and time.perf_counter() > deadline):
            cert["timed_out"] = True
            return problem, _stopped(problem, sol, started, cert, f"at the time limit ({limit:g} s)")
        assert run.total == M, "the max-min's pairs were not held"
        t0 = time.perf_counter()
        lex = run.steps.finish()
        held = problem.pairs.key  # sorted, locks included
        # below the run's max-min level: closed by its first step, witnessed (no proof needed)
        (vi, vj, vs), (ti, tj, ts), scored = _judge(source, lex, held, m, run.t_low, scale)
        cert["pairs_scored"] += scored
        log.debug("leximin round %d: %d pairs held, flow leximin in %.2fs, %d coordinates, "
                  "%d violators, judged in %.2fs", cert["rounds"], len(si), t_run, lex.K, len(vi),
                  time.perf_counter() - t0)
        if len(vi):
            if cert["rounds"] >= MAX_ROUNDS:
                return problem, _stopped(problem, sol, started, cert,
                                         f"at its work limit ({MAX_ROUNDS} rounds) before the time limit")
            add = top_k(vi, vs, PER_ROW)
            cert["violators_added"] += int(add.sum())
            si, sj, ss = (np.concatenate([si, vi[add]]), np.concatenate([sj, vj[add]]),
                          np.concatenate([ss, vs[add]]))
            continue
        # proven: the tie rule on the final network and the tight pairs outside
        cert.update(holds=True, coordinates=lex.K, tight_pairs_outside=int(len(ti)))
        final = run.final
        on, extra, ties = final.pick(ti, tj)
        cert["ties"] = ties
        ci = np.concatenate([li, final.mentee[on], ti[extra]])
        cj = np.concatenate([lj, final.mentor[on], tj[extra]])
        out = held_problem(np.concatenate([si, ti]), np.concatenate([sj, tj]), np.concatenate([ss, ts]),
                    li, lj, ls, capacity, demand, n, m, cover)
        chosen = np.sort(out.pairs.locate(ci, cj))
        assert np.all(chosen >= 0)
        used, cnt = np.unique(level_keys(out.score[chosen], scale), return_counts=True)
        cert.update(levels={float(v): int(c) for v, c in zip(key_labels(used, scale), cnt)}, scale=scale,
                    matched=int(len(chosen)), maxmin={**cert["maxmin"], "holds": True})
        return out, finish(out, chosen, "optimal", started, "leximin", certificate=cert)


def _stopped(problem, sol: Solution, started: float, cert: dict, why: str) -> Solution:
    """The run's assignment, ``"feasible"``: leximin-optimal over the pairs held only. ``why``:
    which limit stopped it (``cert["timed_out"]`` says whether it was the time limit)."""
    return finish(problem, sol.chosen, "feasible", started, "leximin",
                  certificate={**cert, "levels_of_held": sol.certificate.get("levels")},
                  message=f"stopped {why} before leximin was proven over every pair: the most "
                          "pairs and the best worst pair are proven, the rest of the sorted "
                          "scores only over the pairs held")
