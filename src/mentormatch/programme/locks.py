"""The locked pairs of a round checked against the eligibility rules before solving, at every
size: pairs in force that the rules now exclude (a manager who rejoins puts a pair on the
management line, a new forbidden pair, a readiness threshold) end with reason ``ineligible`` and
a note; a pair the programme's own rules lock and exclude at once is an error naming it.

Only the listed pairs are checked: the org chart is climbed once (people x depth of the chart),
the features are prepared on the two tables and the listed pairs alone are scored, so the cost
never grows with the number of mentee x mentor pairs.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import constraints as C
from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates, Encoder
from ..rules import Rules
from . import ledger

if TYPE_CHECKING:
    from .core import Programme


def excluding_rules(mentors: pd.DataFrame, mentees: pd.DataFrame, rules: Rules, framework,
                    pairs) -> list[tuple[str, str, str]]:
    """``(mentee_id, mentor_id, rule)`` for each listed pair that a rule removes, with the first
    rule that removes it (in the order :func:`mentormatch.constraints.first_rule` uses for every
    pair: the org-chart and attribute rules, then the features' own rules, then ``min_score``).

    Parameters
    ----------
    mentors, mentees : DataFrame
        Validated tables (:func:`mentormatch.schema.validate_tables`), in any row order.
    rules : Rules
        The round's rules (forbidden pairs included).
    framework
        As for :func:`mentormatch.pair` (None: the rules' own, or the bundled one when it fits).
    pairs : iterable of (mentee_id, mentor_id)
        Ids present in the tables.

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.schema import validate_tables
    >>> mentors, mentees = validate_tables(
    ...     pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1]}),
    ...     pd.DataFrame({"id": ["E1"], "manager_id": ["M1"]}))
    >>> excluding_rules(mentors, mentees, Rules.coerce(None), None, [("E1", "M1"), ("E1", "M2")])
    [('E1', 'M1', 'management_line')]
    """
    from ..features import Context
    from ..pipeline import resolve_framework
    from ..scoring import score_pairs

    pairs = [(str(e), str(m)) for e, m in pairs]
    if not pairs:
        return []
    e_ids = Encoder.from_ids(mentees["id"].astype(str))
    m_ids = Encoder.from_ids(mentors["id"].astype(str))
    a, b = C.id_pairs(pairs, e_ids, m_ids, "constraints.locked")
    cand = Candidates.from_arrays(a, b, len(e_ids), len(m_ids))
    masks = C.rule_masks(mentees, mentors, cand, rules.constraints, e_ids, m_ids)
    fw = resolve_framework(framework if framework is not None else rules.framework_source(),
                           mentees, mentors)
    scores = score_pairs(mentees, mentors, cand, rules, Context(framework=fw))
    masks.update(scores.ineligible)
    if not math.isnan(rules.constraints["min_score"]):
        masks["min_score"] = scores.total < rules.constraints["min_score"]
    which, names = C.first_rule(masks, len(cand))
    hit = np.flatnonzero(which >= 0)
    return [(str(e_ids.ids[cand.mentee[k]]), str(m_ids.ids[cand.mentor[k]]), names[which[k]])
            for k in hit]


def end_ineligible(prog: "Programme", v_mentors: pd.DataFrame, v_mentees: pd.DataFrame,
                   rules: Rules, date: str) -> list[str]:
    """End the pairs in force among ``rules``' locked pairs that ``rules`` exclude (reason
    ``ineligible``, in place) and return a note naming each pair and its rule; a pair the
    programme's own ``constraints.locked`` holds is not ended but raises InfeasibleError."""
    bad = excluding_rules(v_mentors, v_mentees, rules, prog.framework,
                          rules.constraints["locked"])
    if not bad:
        return []
    own = {(str(e), str(m)) for e, m in prog.rules.constraints["locked"]}
    for e, m, rule in bad:
        if (e, m) in own:
            raise InfeasibleError(Conflict(
                "locked", f"locked pair ({e}, {m}) is ineligible: rule {rule!r} removes it",
                f"drop the lock or turn off {rule!r}"))
    h = prog._history
    which = {(e, m): rule for e, m, rule in bad}
    keys = pd.Series(list(zip(h["mentee_id"], h["mentor_id"])), dtype=object)
    ledger.close(h, ledger.active_mask(h, date) & keys.isin(set(which)).to_numpy(), date,
                 "ineligible")
    listed = sorted(f"({e}, {m}): {rule}" for (e, m), rule in which.items())
    return [f"history: {len(bad)} pair(s) in force ended on {date} because the rules now exclude "
            f"them (pair: rule): {ledger.listing(listed)}"]
