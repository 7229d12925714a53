"""The speed section's measurements: each peer solving one uniform instance (``problems.py``),
timed as ``timing.py`` says, its answer checked on the scores. Each runs in a worker process
(``harness.measure``); :data:`PEERS` names them, in the order of the section's tables, with
what the section needs to know of each."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness import use_src
from problems import answer_row, assign_frames, check_assignment, check_sparse, sparse_problem, uniform_problem
from rss import peak_rss_mb


def timed(spec: dict, prepare) -> dict:
    """The speed section's measurement of one peer at one size, as timing.py describes: a warm-up
    call on a tiny instance of the same kind, then ``prepare(spec)``'s call repeated (the min and
    median of both clocks). ``prepare(spec)`` builds the inputs (not timed) and returns ``(call,
    check)``: ``call()`` is the timed work (the peer's model built from the arrays, solved);
    ``check(output)`` recomputes the objective and counts violations on the scores."""
    from timing import BUDGET, repeat, runs

    tiny = dict(spec, n=8, m=3, k=min(spec.get("k") or 0, 2))
    prepare(tiny)[0]()  # imports and first-call costs stay out of the timing
    call, check = prepare(spec)
    before = peak_rss_mb()
    t = repeat(call, runs(spec["n"], spec.get("k") or spec["m"]), spec.get("budget", BUDGET))
    out = check(t.out)
    out.update(t.summary(), rss_before_mb=before)
    return out


def w_mm_assign(spec):
    """mentormatch.assign(..., solver="flow") on a dense DataFrame (the public API); its
    tables (built on their first read) are read after the timing."""
    use_src()
    import pandas as pd
    from mentormatch.pipeline import assign

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])
        mentees, mentors, scores, forbidden, capacity = assign_frames(s, f, c)

        def check(res):
            e = pd.Index(mentees).get_indexer(res.pairs["mentee_id"])
            j = pd.Index(mentors).get_indexer(res.pairs["mentor_id"])
            return answer_row(check_assignment(s, f, e, j, c), res)
        return (lambda: assign(scores, capacity, forbidden=forbidden, solver="flow")), check
    return timed(spec, prepare)


def w_mm_scored(spec):
    """mentormatch's certified scale path on a dense score matrix (-inf = forbidden):
    each mentee's best pairs solved exactly, optimality proven for every pair with dual prices."""
    use_src()
    import numpy as np
    from mentormatch.solvers import SolverOptions
    from mentormatch.solvers.certify import solve_scored

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])
        masked = np.where(f, -np.inf, s)  # the scorer's convention for an ineligible pair

        def check(out):
            problem, sol = out
            chosen = sol.chosen
            return dict(answer_row(check_assignment(s, f, problem.pairs.mentee[chosen],
                                                    problem.pairs.mentor[chosen], c), sol),
                        certified=bool((sol.certificate or {}).get("holds")))
        return (lambda: solve_scored(masked, np.full(m, c), options=SolverOptions())), check
    return timed(spec, prepare)


def w_mm_solver(spec):
    """mentormatch's flow solver through the array interface (no DataFrames)."""
    use_src()
    import numpy as np
    from mentormatch.pairs import Candidates
    from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        flow = get_solver("flow")
        if spec.get("k"):
            mentee, mentor, score = sparse_problem(n, m, spec["k"], spec["seed"])

            def call():
                return flow(AssignmentProblem(Candidates(mentee, mentor, n, m), score, np.full(m, float(c))),
                            SolverOptions())

            def check(sol):
                ch = sol.chosen
                return answer_row(check_sparse(score[ch], mentee[ch], mentor[ch], n, m, c), sol)
            return call, check
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            cand = Candidates.from_mask(~f)
            return cand, flow(AssignmentProblem(cand, s[~f], np.full(m, float(c))), SolverOptions())

        def check(out):
            cand, sol = out
            return answer_row(check_assignment(s, f, cand.mentee[sol.chosen], cand.mentor[sol.chosen], c), sol)
        return call, check
    return timed(spec, prepare)


def scipy_call(s, f, c: int):
    """scipy.optimize.linear_sum_assignment on the capacity-expanded matrix of ``s``, each
    mentor ``c`` columns (places), a forbidden pair at cost inf. Returns the call (the
    expansion and the solve, what is timed) and the function that reads its output as pairs
    (mentee, mentor)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    def call():
        cost = np.repeat(np.where(f, np.inf, -s), c, axis=1)  # n x (m * c); each mentor c slots
        return linear_sum_assignment(cost)

    def pairs(out):
        rows, cols = out
        return rows, cols // c
    return call, pairs


def lap_call(s, f, c: int):
    """lap.lapjv (Jonker-Volgenant, PyPI `lap`) on the capacity-expanded matrix of ``s``, each
    mentor ``c`` columns (places); a forbidden pair costs 0 (no gain), as does leaving a mentee
    unassigned, so only positive pairs count. Returns the call (the expansion and the solve,
    what is timed) and the function that reads its output as pairs (mentee, mentor), the
    forbidden ones dropped. ``ladder.py`` times the same call."""
    import numpy as np
    import lap

    def call():
        cost = np.repeat(np.where(f, 0.0, -s), c, axis=1)  # n x (m * c); each mentor c slots
        return lap.lapjv(cost, extend_cost=True)[1]

    def pairs(x):
        rows = np.flatnonzero(x >= 0)
        cols = x[rows]
        keep = ~f[rows, cols // c]
        return rows[keep], cols[keep] // c
    return call, pairs


def expanded_worker(peer_call):
    """The worker of a peer on the capacity-expanded matrix (:func:`scipy_call`,
    :func:`lap_call`): its call timed, its pairs checked on the scores."""
    def worker(spec):
        def prepare(spec):
            n, m, c = spec["n"], spec["m"], spec["c"]
            s, f = uniform_problem(n, m, spec["seed"])
            call, pairs = peer_call(s, f, c)
            return call, lambda out: dict(check_assignment(s, f, *pairs(out), c), status="optimal")
        return timed(spec, prepare)
    return worker


w_scipy, w_lap = expanded_worker(scipy_call), expanded_worker(lap_call)


def w_ortools_dense(spec):
    """The naive peer: OR-Tools SimpleMinCostFlow with every arc of the dense bipartite graph."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        if spec.get("k"):
            ii, jj, w = sparse_problem(n, m, spec["k"], spec["seed"])
        else:
            s, f = uniform_problem(n, m, spec["seed"])

        def call():
            src, sink = n + m, n + m + 1
            if spec.get("k"):
                a, b, ws = ii, jj, w
            else:
                a, b = np.nonzero(~f)
                ws = s[a, b]
            tails = np.concatenate([np.full(n, src), a, n + np.arange(m), [src]])
            heads = np.concatenate([np.arange(n), n + b, np.full(m, sink), [sink]])
            caps = np.concatenate([np.ones(n), np.ones(len(a)), np.full(m, c), [n]]).astype(np.int64)
            costs = np.concatenate([np.zeros(n), -np.round(ws * 1e6), np.zeros(m), [0]]).astype(np.int64)
            smcf = min_cost_flow.SimpleMinCostFlow()
            smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
            smcf.set_nodes_supplies(np.array([src, sink], dtype=np.int32), np.array([n, -n], dtype=np.int64))
            status = smcf.solve()
            if status != smcf.OPTIMAL:
                raise RuntimeError(f"OR-Tools status {status}")
            return a, b, ws, smcf.flows(np.arange(n, n + len(a), dtype=np.int32))

        def check(out):
            a, b, ws, flows = out
            used = flows > 0
            return dict(check_sparse(ws[used], a[used], b[used], n, m, c) if spec.get("k")
                        else check_assignment(s, f, a[used], b[used], c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_networkx(spec):
    """networkx.max_weight_matching on mentees x capacity-expanded mentor slots."""
    import networkx as nx
    import numpy as np

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            g = nx.Graph()
            ii, jj = np.nonzero(~f)
            g.add_weighted_edges_from(
                ((("e", int(i)), ("m", int(j), k), float(s[i, j])) for i, j in zip(ii, jj) for k in range(c)))
            return nx.max_weight_matching(g)

        def check(matching):
            e, j = [], []
            for a, b in matching:
                mentee, slot = (a, b) if a[0] == "e" else (b, a)
                e.append(mentee[1])
                j.append(slot[1])
            return dict(check_assignment(s, f, e, j, c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_hospital_resident(spec):
    """matching.games.HospitalResident (stable, resident-optimal) with full preference lists
    ordered by score on both sides; mentors are hospitals with capacity c."""
    import numpy as np
    from matching.games import HospitalResident

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            masked = np.where(f, -np.inf, s)
            order_r = np.argsort(-masked, axis=1, kind="stable")
            order_h = np.argsort(-masked, axis=0, kind="stable")
            allowed = ~f
            resident_prefs = {i: [f"h{j}" for j in order_r[i] if allowed[i, j]] for i in range(n)}
            hospital_prefs = {f"h{j}": [int(i) for i in order_h[:, j] if allowed[i, j]] for j in range(m)}
            game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs,
                                                             {f"h{j}": c for j in range(m)})
            return game.solve(optimal="resident")

        def check(result):
            e, j = [], []
            for hospital, residents in result.items():
                for r in residents:
                    e.append(int(r.name))
                    j.append(int(str(hospital.name)[1:]))
            return dict(check_assignment(s, f, e, j, c), status="stable")
        return call, check
    return timed(spec, prepare)


@dataclass(frozen=True)
class Peer:
    """One peer of the speed section: its worker; a rough peak memory of a dense measurement
    from (cells, capacity), to skip (and say so) what cannot fit; whether it also runs on the
    sparse variant; and for an exact peer, what it runs on (the fastest exact peer at a size is
    "the fastest exact peer" of issue 23's targets)."""

    worker: Callable[[dict], dict]
    bytes: Callable[[int, int], int]
    sparse: bool = False
    exact: str | None = None


#: The speed section's peers, by the name its tables give them, in their order.
PEERS = {  # peak bytes: the inputs, and the peer's own model
    "mentormatch assign(flow)": Peer(w_mm_assign, lambda cells, c: cells * 8 * 6),  # frames, index arrays
    "mentormatch solver(flow)": Peer(w_mm_solver, lambda cells, c: cells * 8 * 5, sparse=True),
    "mentormatch solve_scored(dense, certified)": Peer(w_mm_scored, lambda cells, c: cells * 8 * 2),
    "scipy linear_sum_assignment": Peer(w_scipy, lambda cells, c: cells * 8 * (2 + 2 * c),  # expanded, copied
                                        exact="on the capacity-expanded matrix"),
    "lap.lapjv": Peer(w_lap, lambda cells, c: cells * 8 * (2 + 3 * c),  # expanded, made square
                      exact="on the capacity-expanded matrix"),
    "OR-Tools dense min-cost flow": Peer(w_ortools_dense, lambda cells, c: cells * 8 * 2 + cells * 60,
                                         sparse=True, exact="with every eligible arc"),  # ~60 B an arc
    "networkx max_weight_matching": Peer(w_networkx, lambda cells, c: cells * c * 500,  # dicts of dicts
                                         exact="on capacity-expanded mentor slots"),
    # stable (resident-optimal), not optimal: not an exact peer
    "matching HospitalResident": Peer(w_hospital_resident, lambda cells, c: cells * 2 * 60),  # lists of objects
}
#: The workers, by their ``kind``.
WORKERS = {name: peer.worker for name, peer in PEERS.items()}
