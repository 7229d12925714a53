"""Max-min (``"maxmin"``) at any size: the same three steps as
:mod:`mentormatch.solvers.fair`, each a certified min-cost flow over every pair of the scale
path's scorer, so no pair list is held.

With a threshold ``t`` and a weight ``W`` larger than any total of scores can change, the flow
on ``s'_ij = s_ij + W [s_ij >= t]`` maximises first the number of chosen pairs scoring at least
``t`` (the largest matching among those pairs), then the total score. So:

1. at ``t = -inf`` it gives ``M``, the most pairs any assignment holds (free of locks);
2. ``t* = max { t : the flow at t chooses M pairs scoring >= t }``: a flow that reaches ``M``
   moves the lower end up to the lowest score it chose (a witness), one that falls short moves
   the upper end down. The next threshold is a guess from the pairs the flows have held (their
   own max-min, by max-flows on them: real pairs, so the guess is reached, and a flow there is
   a witness); once the guess is the witness itself, a flow just above it (the next float)
   either falls short, which proves the witness is ``t*`` exactly, or finds pairs not held and
   moves the witness up. Usually three flows in all (``-inf``, the guess, the proof). After
   ``MAX_MISSES`` such moves the bracket is bisected instead, and probed just above the
   witness once narrow (``PROBE``);
3. the flow at ``t*`` (or at the lowest locked score, when lower) holds ``M`` pairs, all scoring
   at least that, with the largest total: as no assignment holds more than ``M`` pairs, it has
   no pair below the threshold.

Cost (synthetic organisation seed 1, programme (c), CPU of the whole ``pair()`` on a loaded
2-core machine): 3,000 x 1,500 in 1.9 s with 3 flows (5.4 s with the 13 flows of bisection
alone); 20,000 x 5,000 in 92 s with 3 flows (271 s with 12), the same pairs, objective and
threshold. Each flow costs passes over every pair's bound; the max-flows on the pairs seen
(29-32 of them) cost little beside one flow.

**One rule on every source.** A flow on ``s + W [s >= t]`` quantizes ``s + W`` at the scale
of :func:`mentormatch.solvers.quantize.choose_scale`, which follows the power of two of ``W``: the
size of ``W`` sets how finely the flow (and the tie rule of :mod:`mentormatch.solvers.ties` on
its optimal face) tells two totals apart. Until s18 every flow's ``W = 2 (n_max + 1) (top + 1)``
took ``top`` from the source: the exact largest ``|s|`` on the complete set and cached blocks,
the features' bound ``largest`` on bounds (54.1 against 5.23 at the hunt's seed 179, so ``W``
9,814 against 1,109 and a quantum 8 times coarser). Two assignments whose totals differ by less
than the coarser quantum were a tie on bounds and not on the complete set (or the other way), so
the tie rule picked other pairs of the same total (8 of about 210 hunted cases). Now only the
first flow, which counts (``M``, a first witness, the pairs seen), keeps that weight; every later
flow's, and so the answer's, is
:func:`~mentormatch.solvers.threshold.threshold_weight` of the problem: ``n_max`` and the power
of two of ``max(best score, -t)``, the best score being the largest any flow has held (each
mentee's best pair is held by every source, the fact the plain flow's scale rests on). A flow
that holds a pair above that power of two runs again with the larger weight, so ``W`` always
dominates the pairs a flow chose. The answer is always the pick of a flow at ``t_eff`` (the
max-min, or a lower locked score) under the problem's weight: the pick of a flow at a lower
threshold under the same weight whose worst pair is ``t_eff`` is the same (its optimal face
holds every optimum at ``t_eff``, and its pick is one of them); the first flow's pick stands
only when its weight is the problem's (usually so on held pairs and blocks, whose first weight
comes from the exact largest ``|s|``), else it is flowed again. So every source solves the same
integer problem last and the tie rule picks the same pairs. The cost is on bounds, where the
first flow keeps the least safe weight (until s22 a larger one widened the float32 check's
margin; ``W`` is no longer in the float32 bounds, below): when
its pick is the answer, one more flow (the hunt's 30 organisations of 30-120 x 6-25: 90 flows
against 70; 3,000 x 1,500 and 20,000 x 5,000 (c): 3 flows as before).

``s'`` grows with ``s``, so a bound ``u`` of ``s`` gives one of ``s'`` (``u + W [u + margin >=
t]``) and each flow is certified over every pair as the plain flow is. On bounds ``W`` stays out
of the float32 numbers (:class:`~mentormatch.solvers.threshold.ThresholdBounds`): the passes
take it off the price of the pairs whose bound reaches ``t``, and the flow's optimal prices hold
the same ``W``, so it cancels before the rounding. Added to the float32 bounds (until s22), its
rounding (about ``W 2**-22``: 0.18 at 20,000 x 5,000, about 1 at 100,000 x 20,000, against
scores of 0-9) made most pairs of a row suspects: 100,000 x 20,000 was killed at 19 GB; now
1.74 GiB at its peak and 158 s CPU (20,000 x 5,000: 0.85 -> 0.63 GiB, 54 -> 29 s; the same
pairs). Handled: one mentor per mentee
(demands above one too), unit loads, whole capacities, no side constraints; otherwise the
pairs are held and :mod:`~mentormatch.solvers.fair` runs.

**coverage_first** (``cover``): every flow, the counting one included, runs on the network that
counts mentees (each mentee's source arc split: the first unit weighted by
:func:`mentormatch.solvers.quantize.coverage_weights`, the rest unweighted), so each maximises the
matched mentees first, then the pairs at least ``t``, then the total: ``M`` is the most pairs
among the assignments matching the most mentees, and a flow at ``t`` reaching ``M`` such pairs
is a witness among them. The weights nest: :func:`~mentormatch.solvers.quantize.coverage_scale`
takes the largest ``|s + W|`` (so the power of two of ``W``), quantizes pair costs to at most
``2**T`` and weights a mentee ``Wq = 2**(T + 1 + ceil(log2(places + 1)))``, above any change of
the total of ``s + W``; ``W`` is above any change of the total of ``s``. The cost is resolution:
``Wq (n_nodes + 1) <= 2**61`` bounds ``T``, and ``W`` takes ``log2 W`` of those bits from the
scores: the scores' quantum is 2**-33 at 6 x 3, 2**-28 at 300 x 80, 2**-19 at 3,000 x 1,500 and
2**-11 at 20,000 x 5,000 with demands of 2 (2**-33, 2**-28, 2**-24 and 2**-22 without
``coverage_first``): the mentees, the pairs and the worst pair are exact, the total is optimal
to that quantum per pair: when the chosen pairs times it (``rounding_bound``) exceed 1e-6 of
the total, the answer is "feasible" with that figure, not "optimal". With every demand 1 a pair
is a mentee, and the flows run without the weight. The guess from the pairs seen counts mentees
too (the max-flows of :func:`mentormatch.solvers.leximin_graph.cover_max_flow`: the first
flow's matched mentees, then ``M`` pairs): until s19 it ignored them, guessed too high, and each
flow there only lowered the upper end by one score (60 x 20 with demands of 2 on bounds: 64
flows, the work limit, "feasible"; now 3, "optimal").

**The total** (s20). Once the count and ``t_eff`` are known, and only when the nested
weights left the total coarser than the gap (``rounding_bound`` above 1e-6 of it: under
coverage_first at scale, or ``W`` large beside the scores), one more certified flow runs with
the earlier keys fixed as constraints, not weights
(:func:`mentormatch.solvers.maxmin_total.solve_total`): supplies ``C`` (a first unit per
matched mentee) and ``M - C``, only pairs at least ``t_eff``, no bypass. Its flows are exactly
the assignments that tie on the count, the pairs and the worst pair, so its optimum is the best
total among them, at the plain flow's scale (``M / scale`` far below the gap); it starts from
the last flow's pairs and the pairs seen, prices every pair of the source and applies the tie
rule on its optimal face. ``certificate["second_stage"]`` records it (counts, rounds,
violators added, ``holds``). Should it not be proven (a time-out, its round limit), the nested
answer stands, "feasible" with its rounding. (s19's second stage, a flow at ``t_eff`` with a
smaller weight, kept coverage_first's step: 2**-18 per pair at 200,000 x 40,000 with demands
of 5, still above the gap.) Measured (synthetic seed 1, coverage_first, CPU of the whole
``pair()``, load 10-22): 20,000 x 5,000 with demands of 5 on bounds, s19 "feasible" (rounding
3.3; its second stage's pick fell short of the count), 4 flows, 231 s; now "optimal" (rounding
2e-7, a total 0.024 higher), 3 flows and the fixed-count flow in one round (95,328 pairs scored
exactly, 10 s), 180 s. 3,000 x 1,500 with demands of 3 on blocks: 12.4 s (4 flows) -> 11.5 s
(3 flows, the fixed-count flow in 2 rounds), both "optimal", the same objective.

**The time limit** reaches every flow: the rules of a stop (what a stopped flow still proves)
are :mod:`mentormatch.solvers.bottleneck_stops`'s; ``coverage_only`` is
:mod:`mentormatch.solvers.bottleneck_cover`'s one flow.
"""
from __future__ import annotations

import logging
import math
import time

import numpy as np

from .base import OPTIMAL_GAP, AssignmentProblem, Solution, SolverOptions, finish
from .bottleneck_cover import solve_coverage_first
from .bottleneck_stops import late, maxmin_message, mentees, probe_proves, stopped
from .maxmin_total import fixed_total
from .seen import Seen
from .threshold import HeldRows, ThresholdBlocks, ThresholdBounds, threshold_weight

log = logging.getLogger(__name__)

__all__ = ["solve_held", "solve_maxmin_scorer"]

#: Below this width of the bracket (relative to the score scale) the next flow probes just
#: above the witness instead of halving.
PROBE = 1e-4
#: At most this many flows.
MAX_FLOWS = 64
#: After this many guesses from the pairs seen proved too low (a flow above the guess found
#: pairs not seen), the bracket is halved instead (a bound on the flows whatever the pairs).
MAX_MISSES = 2


def solve_held(problem: AssignmentProblem, options: SolverOptions | None = None, *,
               coverage_only: bool = False) -> Solution:
    """Max-min (or, with ``coverage_only``, ``coverage_first``) on a held problem with unit
    loads, whole capacities and no side constraints, by :func:`solve_maxmin_scorer` on its
    pairs: the same flows, certificate and tie rule as on the scale path's sources, so every
    source gives the same pairs. ``chosen`` refers to ``problem``'s pairs.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([1.0, 0.3, 0.6, 0.05]), np.ones(2))
    >>> sol = solve_held(p)  # the plain optimum, (0, 0) and (1, 1), has a worst pair of 0.05
    >>> sol.chosen.tolist(), sol.status, sol.certificate["threshold"]
    ([1, 2], 'optimal', 0.3)
    """
    started = time.perf_counter()
    P = problem.pairs
    lk = np.flatnonzero(problem.locked)
    whole = np.floor(np.asarray(problem.capacity, float) + 1e-9)  # (unit loads: whole places)
    final, sol = solve_maxmin_scorer(HeldRows(P, problem.score), whole,
                                     n_mentees=P.n_mentees, n_mentors=P.n_mentors,
                                     demand=problem.demand,
                                     locked=(P.mentee[lk], P.mentor[lk]) if len(lk) else None,
                                     options=options, coverage_only=coverage_only,
                                     cover=bool(problem.coverage_first))
    F = final.pairs
    chosen = P.locate(F.mentee[sol.chosen], F.mentor[sol.chosen])
    assert np.all(chosen >= 0), "a chosen pair outside the held candidates"
    bound = None if sol.bound is None else float(sol.bound)
    return finish(problem, chosen, sol.status, started, sol.solver, bound=bound,
                  certificate=sol.certificate, message=sol.message)


def solve_maxmin_scorer(scorer, capacity, *, n_mentees: int, n_mentors: int, demand=None,
                        locked=None, options: SolverOptions | None = None,
                        coverage_only: bool = False, cover: bool = False,
                        exact_total: bool = True) -> tuple[AssignmentProblem, Solution]:
    """Max-min over every pair of a block scorer (``rows -> scores``, ``-inf`` where ineligible,
    ``n_mentees`` x ``n_mentors``) or a :class:`mentormatch.scale.BoundedScorer`:
    (final sparse problem with the plain scores, solution). ``status`` is ``"optimal"`` when
    every flow was certified and no threshold lies between the witness and the upper end.

    ``coverage_only``: ``coverage_first`` instead (the most mentees, then the largest total), by
    one certified flow whose network counts mentees (:mod:`~mentormatch.solvers.bottleneck_cover`). ``cover``:
    max-min under ``coverage_first``, the most matched mentees first (module docstring);
    ``exact_total`` False: no second stage for the total (leximin needs only the count and the
    threshold: a coarse total then leaves ``certificate["holds"]`` True, the status "feasible")."""
    from .bounded import solve_bounded
    from .bounded.start import PriceChain
    from .certify import solve_scored

    options = options or SolverOptions()
    started = time.perf_counter()
    deadline = options.deadline(started)  # (from pair()'s call when set)
    bounded = hasattr(scorer, "upper")
    n, m = n_mentees, n_mentors
    cap = np.asarray(capacity, float)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    n_max = float(min(dem.sum(), cap.sum()))
    # with every demand 1 a pair is a mentee: the flows need not count mentees, and their
    # coverage weight would only cost the scores' resolution (module docstring)
    counting = cover and n > 0 and int(dem.max()) > 1
    largest = float(scorer.largest) if bounded else float(getattr(scorer, "largest", 0.0) or 0.0)
    flows: list[float] = []
    if coverage_only:
        return solve_coverage_first(scorer, bounded, cap, n, m, demand, locked, options, started,
                                    deadline)

    def exact(problem) -> np.ndarray:
        """The plain scores of the problem's pairs, looked up (s + W - W is not s in floats)."""
        P = problem.pairs
        if bounded:
            return scorer.exact_scores(scorer.inverse[P.mentee], P.mentor)
        from .certify import row_blocks

        out = np.empty(len(P))
        starts = P.starts()
        for a, b in row_blocks(n, m):
            lo_, hi_ = int(starts[a]), int(starts[b])
            if hi_ > lo_:
                out[lo_:hi_] = np.asarray(scorer(slice(a, b)))[P.mentee[lo_:hi_] - a, P.mentor[lo_:hi_]]
        return out

    chain = PriceChain()  # each flow on bounds starts from the last one's mentor prices

    s_plus = -np.inf  # the best score any flow has held (the problem's best score)

    def weight(t: float) -> float:
        """The problem's weight at ``t``: ``|s| <= max(best score, -t)`` over the flow's pairs
        (those at least ``t`` and the positive ones)."""
        return threshold_weight(n_max, max(s_plus, -t if np.isfinite(t) else 0.0, 0.0))

    def flow(t: float, W: float | None = None):
        """(problem with plain scores, solution, whether each pair scores >= t, the weight).
        Without ``W``, the problem's weight at ``t``; a flow that held a pair above the best
        score's power of two runs again with the larger weight (W must dominate the pairs it
        chose: module docstring). Each flow gets the deadline: a stopped one answers
        ``"feasible"`` with ``certificate["timed_out"]`` (its assignment meets the capacities
        and demands, a witness of what it holds, no proof of what it does not)."""
        nonlocal s_plus
        while True:
            w = weight(t) if W is None else W
            t0 = time.perf_counter()
            if bounded:
                # each flow starts from the last one's mentor prices instead of a sub-market's
                # (the threshold moves few pairs across it; any prices are a valid start, the
                # certificate is computed afresh)
                problem, sol = chain.solve(lambda: solve_bounded(
                    ThresholdBounds(scorer, t, w), cap, demand=demand, locked=locked, options=options,
                    cover=counting, deadline=deadline))
            else:
                problem, sol = solve_scored(ThresholdBlocks(scorer, t, w), cap, n_mentees=n,
                                            n_mentors=m, demand=demand, locked=locked, options=options,
                                            cover=counting, deadline=deadline)
            flows.append(time.perf_counter() - t0)
            plain = exact(problem)
            s_plus = max(s_plus, float(plain.max(initial=-np.inf)))
            if (W is not None or weight(t) == w or len(flows) >= MAX_FLOWS
                    or stopped(sol)):  # (no second flow past the deadline)
                break
        above = problem.score >= (t + 0.5 * w if np.isfinite(t) else -np.inf)  # given the w
        return problem, sol, plain, above, w

    # 1. the most pairs: the flow on s + W (every eligible pair above -inf)
    top = largest
    if not bounded:  # the block scorer's scale: one pass over its (cached) blocks
        from .certify import row_blocks

        for a, b in row_blocks(n, m):
            block = np.asarray(scorer(slice(a, b)))
            fin = block[np.isfinite(block)]
            top = max(top, float(np.abs(fin).max(initial=0.0)))
    # the first flow only counts (M, a first witness, pairs seen): its weight may come from
    # this source's bound on |s|; every later flow's from the problem (the best score: each
    # mentee's best pair is held by every source, so every source reads the same value from
    # this flow; the plain flow's scale rests on the same fact). On bounds the least safe weight
    # (from the features' loose bound on |s|); elsewhere ``top`` is the exact largest
    # |s|, so threshold_weight of it is usually the problem's and the first pick can stand
    W0 = 2.0 * (n_max + 1.0) * (top + 1.0) if bounded else threshold_weight(n_max, top)
    problem, sol, plain, _, W0 = flow(-np.inf, W0)
    # its bound on s + W0 over every assignment (certified or stopped), which bounds a stop's
    # total with no pass (fair_claims.lifted_total); not where the flows count mentees
    first_bound = None if counting or sol.bound is None else [float(sol.bound), float(W0)]
    # on bounds, its first pass's mentor ceilings (each mentor's best bound), for the same
    first_ceilings = (sol.certificate or {}).get("mentor_ceilings")
    first_rows = (sol.certificate or {}).get("row_ceilings")  # (a first pass cut short: its rows')
    free = ~problem.locked[sol.chosen]
    M = int(free.sum())
    certified = sol.status == "optimal"
    # M is the most pairs only when the first flow is proven; a stopped one found M, no more
    counted, timed_out = certified, stopped(sol)
    covered = mentees(problem, sol)  # (coverage_first's first key: a witness must match as many)
    best = (problem, sol, plain, W0)
    lock_min = float(plain[problem.locked].min()) if problem.locked.any() else np.inf
    bracket = None
    seen = Seen(problem, cap, dem, m, np.asarray(sol.chosen, np.int64) if counting else None)
    seen.add(problem, plain)
    misses = 0  # probes that a guess from the pairs seen sent too low
    if M == 0:
        t_star = np.inf
    else:
        lo = float(plain[sol.chosen][free].min())  # reached: this assignment witnesses it
        scale = max(1.0, abs(s_plus))  # (the problem's, not this source's bound)
        # not reached, when the first flow is proven (the best total of M pairs: M pairs all
        # above its best chosen pair would total more)
        hi = float(plain[sol.chosen][free].max()) + scale * 1e-6
        closed = False
        while counted and not timed_out and len(flows) < MAX_FLOWS:
            if hi <= np.nextafter(lo, np.inf):  # no threshold lies strictly between: exact
                closed = True
                break
            if late(deadline, 1.2 * flows[-1]):
                timed_out = True
                break  # a time-out: the best witness so far, said to be one
            if misses < MAX_MISSES:
                # the max-min of the pairs seen (max-flows on them): reached over every pair
                # too, so a flow there is a witness; once it is the witness itself, a flow
                # just above it proves it (or, having found pairs not seen, moves it up)
                guess = seen.maxmin(M, lo, hi)
                mid = guess if guess > lo else np.nextafter(lo, np.inf)
            else:  # halve the bracket; once it is narrow, probe just above the witness
                mid = np.nextafter(lo, np.inf) if hi - lo <= PROBE * scale else 0.5 * (lo + hi)
            p2, s2, pl2, above, W = flow(mid)
            seen.add(p2, pl2)
            f2 = ~p2.locked[s2.chosen]
            # every chosen free pair >= mid (as many mentees): a witness, proven or not
            witness = (int(np.sum(above[s2.chosen][f2])) >= M
                       and (not counting or mentees(p2, s2) >= covered))
            if witness:
                misses += int(mid == np.nextafter(lo, np.inf))
                lo = float(pl2[s2.chosen][f2].min())
                best = (p2, s2, pl2, W)
            lower, ends = probe_proves(s2, witness)  # (bottleneck_stops: the time limit's rules)
            if lower:  # no assignment of M pairs reaches mid
                hi = mid
            if ends:  # stopped (or not certified): no further probe
                certified, timed_out = False, timed_out or stopped(s2)
                break
        t_star = lo
        certified &= closed
        bracket = (lo, hi) if counted else None
    t_eff = min(t_star, lock_min)
    problem, sol, plain, W = best
    # the answer is the pick of a flow at t_eff with the problem's weight (the pick of a flow at
    # a lower threshold whose worst pair is t_eff, with the same weight, is the same: module
    # docstring, "One rule on every source"); a lower locked pair: the total among pairs >= it.
    # After a stop, none: the best witness stands (not the tie rule's pick: not "optimal")
    if np.isfinite(t_eff) and (t_eff < t_star or W != weight(t_eff)):
        if timed_out or late(deadline):
            timed_out, certified = True, False
        else:
            p3, s3, pl3, _, W3 = flow(t_eff)
            if stopped(s3):  # stopped: its pick may hold fewer pairs; the witness stands
                timed_out, certified = True, False
            else:
                problem, sol, plain, W = p3, s3, pl3, W3
                certified &= sol.status == "optimal"
    chosen = np.asarray(sol.chosen, np.int64)
    out = AssignmentProblem(problem.pairs, plain, cap, problem.demand, locked=problem.locked,
                            coverage_first=cover)
    # the last key, the total, is exact only to the flow's integer step: ``rounding_bound`` (the
    # chosen pairs times the step) bounds how far it can fall short of the best total among the
    # assignments that tie on every earlier key. coverage_first's weight above W leaves the
    # scores few bits at scale (module docstring): beyond OPTIMAL_GAP of the total, not proven
    rounding = float((sol.certificate or {}).get("rounding_bound") or 0.0)
    total = math.fsum(plain[chosen].tolist()) if len(chosen) else 0.0
    coarse = certified and rounding > OPTIMAL_GAP * max(1.0, abs(total))
    second = None
    if (coarse and exact_total and np.isfinite(t_eff) and not timed_out
            and not late(deadline)):
        # the total with the earlier keys fixed as constraints (module docstring, "The total";
        # solvers/maxmin_total.py): one more certified flow, with no weight, at the plain scale
        second, done = fixed_total(scorer, bounded, problem, sol, plain, seen, cap, dem, counting,
                                    cover, t_eff, max(s_plus, -t_eff, 0.0), n, m, deadline)
        if done is not None:
            out, chosen, total = done
            rounding = second["total_rounding"]
            coarse = rounding > OPTIMAL_GAP * max(1.0, abs(total))
    method = "max-min by certified flows on s + W [s >= t]" + (", counting mentees" if counting else "")
    cert = {"method": method, "matched": int(len(chosen)),
            # the worst chosen pair, locks included
            "threshold": None if not np.isfinite(t_eff) else t_eff, "weight": W,
            "flows": len(flows), "flow_seconds": [round(x, 3) for x in flows],
            "threshold_bracket": bracket, "warm_started_flows": chain.taken,
            "max_flows_on_pairs_seen": seen.max_flows, "guesses_missed": int(misses),
            "holds": bool(certified), "count_proven": bool(counted), "timed_out": timed_out,
            "total_rounding": rounding, "first_flow_bound": first_bound,
            "second_stage": second}
    if first_ceilings is not None:  # (popped by the claims: fair_claims.source_claims)
        cert["mentor_ceilings"] = first_ceilings
    if first_rows is not None:  # (the same)
        cert["row_ceilings"] = first_rows
    message = maxmin_message(certified=certified, counted=counted, timed_out=timed_out,
                             bracket=bracket, most=M, max_flows=MAX_FLOWS, coarse=coarse,
                             rounding=rounding)
    return out, finish(out, chosen, "optimal" if certified and not coarse else "feasible", started, "maxmin",
                       certificate=cert, message=message)

