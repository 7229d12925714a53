"""The result of a pairing: pairs, unmatched mentees with reasons, the solver's status and
certificate, and the data the reports need."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .report.audit import audit as _audit
from .report.explain import explain as _explain
from .report.export import write_csv
from .report.html import repr_html as _repr_html
from .report.html import to_html as _to_html


@dataclass
class Matching:
    """What :func:`mentormatch.pair` and :func:`mentormatch.assign` return.

    Attributes
    ----------
    pairs : DataFrame
        One row per pair: ``mentee_id``, ``mentor_id``, ``score`` (and, from ``pair``,
        ``rank`` = the mentor's rank among the mentee's eligible mentors by score, 1 = best).
    unmatched : DataFrame
        ``mentee_id``, ``reason_code``, ``reason`` (plain words with numbers): every mentee
        not in ``pairs`` is here, so the two together account for every input mentee.
    status : {'optimal', 'feasible', 'infeasible'}
        'optimal' only when proven (see ``certificate``).
    objective : float
        Total score of the pairs, recomputed from them.
    bound, gap : float or None
        An upper bound on the optimum where the solver has one, and the relative gap.
    contributions : DataFrame
        Aligned with ``pairs``: one column per feature (weight x value); rows sum to ``score``.
        Empty (no columns) when scores were supplied by the caller (``assign``).
    """

    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    status: str
    objective: float
    bound: float | None
    gap: float | None
    solver: str
    wall_time: float
    certificate: dict | None
    contributions: pd.DataFrame
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_mentees(self) -> int:
        return int(self.data.get("n_mentees", len(set(self.pairs["mentee_id"])) + len(self.unmatched)))

    def summary(self) -> dict[str, Any]:
        """The headline figures as a dict (what ``mentormatch demo`` prints)."""
        out = {
            "mentees": self.n_mentees,
            "mentors": int(self.data.get("n_mentors", self.pairs["mentor_id"].nunique())),
            "pairs": len(self.pairs),
            "matched_mentees": int(self.pairs["mentee_id"].nunique()),
            "unmatched": len(self.unmatched),
            "unmatched_by_reason": self.unmatched["reason_code"].value_counts().sort_index().to_dict()
            if len(self.unmatched) else {},
            "mean_score": float(self.pairs["score"].mean()) if len(self.pairs) else 0.0,
            "objective": self.objective,
            "status": self.status,
            "solver": self.solver,
            "wall_time_s": self.wall_time,
        }
        return out

    def to_csv(self, directory: str | Path) -> dict[str, Path]:
        """Write ``pairs.csv`` and ``unmatched.csv`` (cells escaped against spreadsheet formulas)."""
        directory = Path(directory)
        pairs = self.pairs
        if len(self.contributions.columns):
            pairs = pd.concat([pairs, self.contributions.add_prefix("contrib_")], axis=1)
        return {
            "pairs": write_csv(pairs, directory / "pairs.csv"),
            "unmatched": write_csv(self.unmatched, directory / "unmatched.csv"),
        }

    def explain(self, mentee_id: str, alternatives: int = 3):
        """Why this mentee got this mentor (or none): contributions in words, rank, the next-best
        alternatives with the exact cost of forcing each, and the constraints that bind."""
        return _explain(self.data, self.pairs, self.unmatched, self.objective, self.status,
                        self.solver, mentee_id, alternatives)

    def audit(self, seeds: int = 20):
        """Programme audit: score distribution, lift over random/greedy/stable, fairness by group,
        mentor load, budget, blocking pairs (DataFrames; see ``mentormatch.report.audit``)."""
        return _audit(self.data, self.pairs, self.unmatched, self.objective, seeds=seeds)

    def to_html(self, path: str | Path | None = None, seeds: int = 20) -> str:
        """A standalone HTML report (plots inline, nothing loaded from the network); written to
        ``path`` when given. Returns the HTML text."""
        return _to_html(self.data, self.pairs, self.unmatched, self.contributions, self.summary(),
                        self.objective, path, seeds=seeds)

    def _repr_html_(self) -> str:
        return _repr_html(self.summary(), self.pairs, self.unmatched)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Matching(status={s['status']!r}, pairs={s['pairs']}, unmatched={s['unmatched']}, "
                f"objective={s['objective']:.4f}, solver={s['solver']!r})")

    # -- what-if and sensitivity (mentormatch.whatif) --------------------------------------
    def what_if(self, weights=None, remove_mentors=(), add_mentors=None, capacity=None, *,
                executor=None):
        """Re-solve with changed weights, mentors or capacities: the changed pairs and score
        deltas (a :class:`mentormatch.whatif.WhatIf`). See :func:`mentormatch.whatif.what_if`."""
        from .whatif import what_if

        return what_if(self, weights, remove_mentors, add_mentors, capacity, executor=executor)

    def sensitivity(self, step: float = 0.25, executor=None, *, relative: bool = True,
                    progress: bool = False) -> pd.DataFrame:
        """Mentees whose mentor changes when each weight moves by +/- ``step``, one row per
        feature. See :func:`mentormatch.whatif.sensitivity`."""
        from .whatif import sensitivity

        return sensitivity(self, step, executor=executor, relative=relative, progress=progress)

    def __getstate__(self):
        # pickled (e.g. sent back from a worker process by pair_many): without the entries of
        # ``data`` that cannot be pickled, named in data["not_transferred"]
        from .batch import portable_data

        return {**self.__dict__, "data": portable_data(self.data)}
