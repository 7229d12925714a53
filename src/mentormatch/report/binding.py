"""The constraints that bind on a chosen pair, in plain words: the mentor at capacity or at its
minimum load, the pair locked, the budget used up, a group's score or share floor that binds
(or is active). Read from the solved problem and its assignment alone (no re-solve), for
``explain()`` beside the priced alternatives (:mod:`mentormatch.report.pricing`).

Works on the pieces of a result (the solved problem, the chosen positions, the ids); never
imports the result class.
"""
from __future__ import annotations

import numpy as np

from .forced import mentor_loads
from .words import short_number

__all__ = ["binding_constraints"]


def binding_constraints(problem, chosen: np.ndarray, position: int, mentor_ids) -> list[str]:
    """Plain-words constraints that bind on the chosen pair at ``position`` of problem.pairs."""
    P = problem.pairs
    i, j = int(P.mentee[position]), int(P.mentor[position])
    load = mentor_loads(problem, chosen)
    out = []
    if load[j] >= problem.capacity[j] - 1e-9:
        out.append(f"mentor {mentor_ids[j]} is at capacity "
                   f"({short_number(load[j], 2)} of {short_number(problem.capacity[j], 2)})")
    if problem.locked[position]:
        out.append("the pair is locked by the programme")
    side = problem.side
    if side.min_load is not None and side.min_load[j] > 0 and load[j] <= side.min_load[j] + 1e-9:
        out.append(f"mentor {mentor_ids[j]} is at its minimum load ({short_number(side.min_load[j])})")
    if side.budget is not None:
        active = load > 0
        spent = float(((side.stipend_fixed if side.stipend_fixed is not None else 0) * active).sum()
                      + ((side.stipend_per_mentee if side.stipend_per_mentee is not None else 0) * load).sum())
        if spent >= side.budget * (1 - 1e-6):
            out.append(f"the budget is used up ({spent:,.0f} of {side.budget:,.0f})")
    if side.group is not None and (side.score_floor is not None or side.share_floor is not None):
        g = int(side.group[i])
        if g >= 0:
            name = side.group_names[g] if side.group_names else str(g)
            mt = P.mentee[chosen]
            sc = problem.score[chosen]
            in_g = side.group[mt] == g
            if side.score_floor is not None and len(sc) and in_g.any():
                overall, mean_g = float(sc.mean()), float(sc[in_g].mean())
                floor = side.score_floor * overall
                state = "binds" if mean_g <= floor + 1e-6 * max(1.0, abs(floor)) else "is active"
                out.append(f"the score floor for group {name} {state} (group mean {mean_g:.3f}, "
                           f"floor {side.score_floor:g} x overall mean {overall:.3f} = {floor:.3f})")
            if side.share_floor is not None:
                members = int((side.group == g).sum())
                matched = len(np.unique(mt[in_g]))
                share = matched / members if members else 1.0
                state = "binds" if share <= side.share_floor + 1.0 / max(members, 1) - 1e-9 else "is active"
                out.append(f"the matched-share floor for group {name} {state} ({matched} of {members} "
                           f"= {share:.0%}, floor {side.share_floor:.0%})")
    return out
