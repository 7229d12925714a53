"""The eligibility rules on the scale path (:mod:`mentormatch.scale`): which pairs each rule of
the tables removes, as listed pairs (pair codes ``i * m + j``) or a mentee-key x mentor table
(:class:`~mentormatch.features.base.KeyedMask`), and how many pairs each rule removes per
mentee (the reasons of unmatched mentees), never by a pass over every pair. The features' own
rules join these in :class:`~mentormatch.scale.BoundedScorer`, which carries them all as
``-BIG`` terms of the bound."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .constraints import id_pairs, management_line_pairs
from .features.base import KeyedMask, row_keys
from .pairs import Encoder, unique_sorted

__all__ = ["table_rules", "removal_counts"]


def _sparse_rule(a: np.ndarray, b: np.ndarray, m: int) -> np.ndarray:
    """Pair codes ``i * m + j`` of a rule's pairs, sorted and unique."""
    return unique_sorted(np.asarray(a, dtype=np.int64) * m + np.asarray(b, dtype=np.int64))


def _within(codes: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """Which of ``codes`` are among ``listed`` (pair codes), by a binary search in the sorted
    codes: ``np.isin`` took 0.12 s for the 300,000 management-line pairs at 100,000 x 20,000,
    this a few milliseconds."""
    listed = unique_sorted(listed)
    if not len(listed):
        return np.zeros(len(codes), dtype=bool)
    at = np.minimum(np.searchsorted(listed, codes), len(listed) - 1)
    return listed[at] == codes


def table_rules(mentees: pd.DataFrame, mentors: pd.DataFrame, cons: dict, mentee_ids: Encoder,
                mentor_ids: Encoder) -> list[tuple[str, object]]:
    """``(rule name, pairs)`` of the rules the tables and constraints give, in the order of
    :func:`mentormatch.constraints.rule_masks`: a person in both tables (``same_person``), the
    management line, ``mentor_level_above`` (a table by mentee level), ``forbidden``."""
    m = len(mentors)
    out: list[tuple[str, object]] = []
    # a hash join, not n x m (an object Index: inferring text dtype copied every id)
    as_mentor = pd.Index(mentor_ids.ids, dtype=object).get_indexer(mentee_ids.ids)
    same = np.flatnonzero(as_mentor >= 0)
    out.append(("same_person", _sparse_rule(same, as_mentor[same], m)))
    if cons.get("management_line", True):
        out.append(("management_line", _sparse_rule(*management_line_pairs(mentees, mentors), m)))
    if cons.get("mentor_level_above", False) and "level" in mentees.columns and "level" in mentors.columns:
        le = mentees["level"].to_numpy(dtype=float)
        lm = mentors["level"].to_numpy(dtype=float)
        key, first = row_keys(le)
        table = ~(lm[None, :] > le[first][:, None]) & ~np.isnan(le[first])[:, None] & ~np.isnan(lm)[None, :]
        out.append(("mentor_level_above", KeyedMask(key, table)))
    if cons.get("forbidden"):
        a, b = id_pairs(cons["forbidden"], mentee_ids, mentor_ids, "constraints.forbidden")
        out.append(("forbidden", _sparse_rule(a, b, m)))
    return out


def removal_counts(rule_parts, names: list[str], n: int, m: int,
                   listed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per rule (in ``names`` order) and mentee, the pairs it removes that no earlier rule
    removed, and per mentee the eligible pairs; by groups of mentees with equal keys for the
    keyed rules and by the listed pairs of the sparse rules, never a pass over all pairs.
    ``listed``: the sparse rules' pair codes, sorted and unique, when the caller has them
    (:class:`~mentormatch.scale.BoundedScorer` keeps them: one sort of 300,000 codes less)."""
    counts = np.zeros((len(names), n), dtype=np.int64)
    keyed = [(names.index(name), part) for name, part in rule_parts if isinstance(part, KeyedMask)]
    sparse = [(names.index(name), part) for name, part in rule_parts if not isinstance(part, KeyedMask)]
    order = [names.index(name) for name, _ in rule_parts]  # a rule's position in the order
    position = {r: order.index(r) for r in set(order)}
    if keyed:
        inverse, first = row_keys(*[part.key for _, part in keyed])
        per_group = np.zeros((len(first), len(names)), dtype=np.int64)
        for g, row in enumerate(first):
            claim = np.full(m, -1)
            for t in sorted(range(len(keyed)), key=lambda t: position[keyed[t][0]], reverse=True):
                r, part = keyed[t]  # later rules first, so that the first rule has the last word
                claim[part.table[part.key[row]]] = r
            per_group[g] = np.bincount(claim[claim >= 0], minlength=len(names))
        counts += per_group[inverse].T
    if sparse:
        codes = listed if listed is not None else unique_sorted(np.concatenate([c for _, c in sparse]))
        i, j = codes // m, codes % m
        first_sparse = np.full(len(codes), -1)
        first_pos = np.full(len(codes), np.iinfo(np.int64).max)
        for r, c in sparse:
            inside = _within(codes, c)
            better = inside & (position[r] < first_pos)
            first_sparse[better], first_pos[better] = r, position[r]
        keyed_claim = np.full(len(codes), -1)
        keyed_pos = np.full(len(codes), np.iinfo(np.int64).max)
        for r, part in keyed:
            inside = part.table[part.key[i], j]
            better = inside & (position[r] < keyed_pos)
            keyed_claim[better], keyed_pos[better] = r, position[r]
        by_sparse = first_pos < keyed_pos
        np.add.at(counts, (first_sparse[by_sparse], i[by_sparse]), 1)
        undo = by_sparse & (keyed_claim >= 0)  # counted by a later keyed rule above
        np.add.at(counts, (keyed_claim[undo], i[undo]), -1)
    eligible = m - counts.sum(axis=0)
    return counts, eligible
