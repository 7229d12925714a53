"""Eligibility rules and the solver-facing constraint arrays, from the programme's rules.

Each rule yields a boolean mask over the candidate pairs (True = the rule removes the pair).
The masks are kept by name so that every unmatched mentee can be told which rules removed
which of their candidates.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .pairs import Candidates, Encoder

# Plain words for each rule, used in unmatched reasons and explanations.
RULE_WORDS = {
    "same_person": "are the mentee themself",
    "management_line": "are in their management line",
    "same_team": "are in the same team",
    "mentor_level_above": "are not above their level",
    "forbidden": "are forbidden pairs",
    "history": "were paired with them before",
    "min_score": "score below the programme's minimum",
    "experience.junior_mentor": "are junior to them",
    "readiness.min": "are below the readiness threshold",
}



def _text(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df.columns:
        return np.full(len(df), "", dtype=object)
    cells = df[column]
    if isinstance(cells.dtype, pd.StringDtype):  # (validated text: no copy filled, then cast)
        return cells.to_numpy(dtype=object, na_value="")
    return cells.fillna("").astype(str).to_numpy(dtype=object)


def _org_nodes(mentee_ids: np.ndarray, mentor_ids: np.ndarray,
               managers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The org chart of both tables as nodes: (the distinct ids, in order of first appearance,
    mentees first; each mentee's node; each mentor's node; each node's manager node, -1 for none
    or an id that is nobody's). ``managers`` holds the mentees' then the mentors' manager ids;
    a person in both tables takes the manager of their first row (the mentees').

    One hash of every id and manager id: the ids, their manager ids looked up, a person's
    first row and the nodes of each table were six hashes of the same text
    (:func:`management_line_pairs` took 0.08 s CPU at 100,000 x 20,000, 0.03 so)."""
    n_people = len(mentee_ids) + len(mentor_ids)
    codes, uniques = pd.factorize(np.concatenate([mentee_ids, mentor_ids, managers]))
    people = codes[:n_people]
    # the ids come first, so their codes are 0..k-1 and a manager id that is nobody's is >= k
    k = int(people.max()) + 1 if n_people else 0
    manager = codes[n_people:]
    manager = np.where((manager >= 0) & (manager < k), manager, -1)
    order = np.argsort(people, kind="stable")
    first = order[np.r_[0, np.flatnonzero(np.diff(people[order])) + 1]] if n_people else order
    return (np.asarray(uniques[:k], dtype=object), people[:len(mentee_ids)],
            people[len(mentee_ids):], manager[first])


def management_line_pairs(mentees: pd.DataFrame, mentors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(mentee index, mentor index) of pairs where one manages the other, directly or up the chain.

    The org chart is the union of both tables (a person in both tables is one person, same id).
    Walks each person's chain upward with whole-array steps: the cost is the number of people
    times the depth of the chart, never the number of pairs.
    """
    e_ids, m_ids = _text(mentees, "id"), _text(mentors, "id")
    ids, mentee_node, mentor_node, parent = _org_nodes(
        e_ids, m_ids, np.concatenate([_text(mentees, "manager_id"), _text(mentors, "manager_id")]))
    node_to_mentor = np.full(len(ids), -1, dtype=np.int64)
    node_to_mentor[mentor_node] = np.arange(len(mentor_node))
    node_to_mentee = np.full(len(ids), -1, dtype=np.int64)
    node_to_mentee[mentee_node] = np.arange(len(mentee_node))

    out_i, out_j = [], []

    def climb(start_nodes: np.ndarray, owner: np.ndarray, lookup: np.ndarray, mentee_side: bool):
        anc = parent[start_nodes]
        alive = anc >= 0
        steps = 0
        while alive.any() and steps <= len(ids):  # validated acyclic; the bound is a guard
            hit = alive & (lookup[np.where(alive, anc, 0)] >= 0)
            other = lookup[anc[hit]]
            if mentee_side:
                out_i.append(owner[hit]); out_j.append(other)
            else:
                out_i.append(other); out_j.append(owner[hit])
            anc = np.where(alive, parent[np.where(alive, anc, 0)], -1)
            alive = anc >= 0
            steps += 1

    climb(mentee_node, np.arange(len(mentee_node)), node_to_mentor, True)   # mentor above mentee
    climb(mentor_node, np.arange(len(mentor_node)), node_to_mentee, False)  # mentee above mentor
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)


def pair_mask(candidates: Candidates, mentee_idx: np.ndarray, mentor_idx: np.ndarray) -> np.ndarray:
    """Boolean mask over ``candidates`` marking the listed pairs."""
    mask = np.zeros(len(candidates), dtype=bool)
    if len(mentee_idx):
        pos = candidates.locate(mentee_idx, mentor_idx)
        mask[pos[pos >= 0]] = True
    return mask


def id_pairs(pairs, mentee_ids: Encoder, mentor_ids: Encoder, setting: str) -> tuple[np.ndarray, np.ndarray]:
    """Encode a list of [mentee_id, mentor_id] pairs, naming any unknown id."""
    mi, mj = mentee_ids.index, mentor_ids.index
    problems = []
    rows_i, rows_j = [], []
    for n, (a, b) in enumerate(pairs):
        a, b = str(a), str(b)
        if a not in mi:
            problems.append(Problem("programme", f"{setting}[{n}]", a, None, a, "a mentee id"))
        if b not in mj:
            problems.append(Problem("programme", f"{setting}[{n}]", b, None, b, "a mentor id"))
        if a in mi and b in mj:
            rows_i.append(mi[a]); rows_j.append(mj[b])
    if problems:
        raise ValidationError(problems)
    return np.asarray(rows_i, dtype=np.int64), np.asarray(rows_j, dtype=np.int64)


def rule_masks(mentees: pd.DataFrame, mentors: pd.DataFrame, candidates: Candidates,
               constraints: dict, mentee_ids: Encoder, mentor_ids: Encoder,
               line_pairs: tuple[np.ndarray, np.ndarray] | None = None,
               forbidden_pairs: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The org-chart and attribute rules as masks over ``candidates`` (True = removed).

    ``line_pairs`` and ``forbidden_pairs`` (index arrays) may be passed in when the same tables
    are masked block after block, so that the org chart is climbed only once."""
    i, j = candidates.mentee, candidates.mentor
    masks: dict[str, np.ndarray] = {}
    masks["same_person"] = mentee_ids.ids[i] == mentor_ids.ids[j]
    if constraints.get("management_line", True):
        a, b = line_pairs if line_pairs is not None else management_line_pairs(mentees, mentors)
        masks["management_line"] = pair_mask(candidates, a, b)
    if constraints.get("same_team", False):
        t_e, t_m = _text(mentees, "team"), _text(mentors, "team")
        masks["same_team"] = (t_e[i] != "") & (t_e[i] == t_m[j])
    if constraints.get("mentor_level_above", False):
        if "level" in mentees.columns and "level" in mentors.columns:
            le = mentees["level"].to_numpy(dtype=float)[i]
            lm = mentors["level"].to_numpy(dtype=float)[j]
            masks["mentor_level_above"] = ~(lm > le) & ~np.isnan(le) & ~np.isnan(lm)
    if constraints.get("forbidden"):
        a, b = (forbidden_pairs if forbidden_pairs is not None else
                id_pairs(constraints["forbidden"], mentee_ids, mentor_ids, "constraints.forbidden"))
        masks["forbidden"] = pair_mask(candidates, a, b)
    return masks


def first_rule(masks: dict[str, np.ndarray], n_pairs: int) -> tuple[np.ndarray, list[str]]:
    """For each pair, the index (into the returned names) of the first rule removing it, -1 if none."""
    names = list(masks)
    which = np.full(n_pairs, -1, dtype=np.int64)
    for k, name in enumerate(names):
        which[(which < 0) & masks[name]] = k
    return which, names


def removal_counts(which: np.ndarray, names: list[str], candidates: Candidates) -> pd.DataFrame:
    """Per mentee, how many candidates each rule removed (first rule wins), mentees x rules."""
    counts = np.zeros((candidates.n_mentees, len(names)), dtype=np.int64)
    hit = which >= 0
    np.add.at(counts, (candidates.mentee[hit], which[hit]), 1)
    return pd.DataFrame(counts, columns=names)



def priority_bonus(prepared):
    """The objective bonus of the mentees' ``priority`` column, a
    :class:`~mentormatch.pipeline.PairBonus` per mentee (None when no mentee has a priority):
    ``priority x constraints.priority_weight``, for :func:`mentormatch.pipeline.solve`'s
    ``bonus``, at every size.

    A mentee with priority 1 is matched before one without whenever their best pairs differ by
    less than the weight; the reported scores stay plain."""
    mentees = prepared.data["mentees"]
    if "priority" not in mentees.columns:
        return None
    priority = np.nan_to_num(mentees["priority"].to_numpy(dtype=float), nan=0.0)
    if not priority.any():
        return None
    from .solvers.base import PairBonus

    weight = float(prepared.data["rules"].constraints["priority_weight"])
    return PairBonus(per_mentee=priority * weight)  # per mentee: priced at every size
