"""The objective's bonus as the reports price it (:mod:`mentormatch.report.bonus`): one record
of three states, read alike by the unmatched reasons. Held per pair, a "capacity_taken" figure
is the score needed on ``score + bonus`` less the pair's bonus (scipy's assignment on the
capacity-expanded matrix, independent of the library); not held, no figure is stated."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from mentormatch.pipeline import assign
from mentormatch.report.bonus import NO_BONUS, ObjectiveBonus, objective_bonus
from mentormatch.report.reasons import unmatched_reasons
from mentormatch.solvers.base import PairBonus

from _exact import expanded_optimum
from test_report_explain import assert_states_the_closest_need


def test_the_record_holds_a_figure_exactly_when_it_is_per_pair():
    assert NO_BONUS.priced and NO_BONUS.per_pair is None
    assert ObjectiveBonus("per_pair", np.zeros(3)).priced and not ObjectiveBonus("not_held").priced
    for bad in (lambda: ObjectiveBonus("per_pair"), lambda: ObjectiveBonus("none", np.zeros(2)),
                lambda: ObjectiveBonus("not_held", np.zeros(2)), lambda: ObjectiveBonus("array")):
        with pytest.raises(ValueError):
            bad()


def test_objective_bonus_reads_a_pair_bonus_an_array_or_states_it_is_not_held():
    pairs = type("P", (), {"mentee": np.array([0, 0, 1, 2]), "mentor": np.array([0, 1, 1, 0])})
    problem = type("Q", (), {"pairs": pairs, "score": np.zeros(4)})
    held = objective_bonus({"bonus": PairBonus(per_mentee=np.array([1.0, 2.0, 4.0]))}, problem)
    assert held.kind == "per_pair" and held.per_pair.tolist() == [1.0, 1.0, 2.0, 4.0]
    arr = objective_bonus({"bonus": np.array([0.5, 0.0, 1.5, 2.0])}, problem)
    assert arr.kind == "per_pair" and arr.per_pair.tolist() == [0.5, 0.0, 1.5, 2.0]
    for data in ({"bonus": np.zeros(3)}, {"bonus": None}, {}):
        got = objective_bonus(data, problem)
        assert got.kind == "not_held" and got.per_pair is None


@pytest.mark.parametrize("seed", range(4))
def test_unmatched_reasons_price_each_state_of_the_bonus(seed):
    rng = np.random.default_rng(300 + seed)
    n, m = 9, 3
    dense = rng.uniform(0.1, 1.0, (n, m)).round(3)
    extra = rng.choice([0.0, 0.25, 0.5], n)  # a priority bonus per mentee
    cap = np.array([1.0, 2.0, 1.0])
    ids, cols = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    # the answer maximises score + bonus: solved on it, then the problem's score is the plain one
    res = assign(pd.DataFrame(dense + extra[:, None], index=ids, columns=cols), pd.Series(cap, index=cols))
    d = res.data
    pr, ch = d["problem"], d["solution"].chosen
    row = np.array([int(str(x)[1:]) for x in d["mentee_ids"].ids])  # e<k> is row k
    per_pair = extra[row[pr.pairs.mentee]]
    plain = dataclasses.replace(pr, score=np.asarray(pr.score, float) - per_pair)
    matched = np.zeros(pr.n_mentees, bool)
    matched[pr.pairs.mentee[ch]] = True
    idx = np.flatnonzero(~matched)

    def reasons(bonus):
        return unmatched_reasons(idx, d["removed"], pr.pairs.mentee, pr.pairs.mentor, plain.score, ch,
                                 pr.capacity, pr.load, d["mentee_ids"].ids, d["mentor_ids"].ids,
                                 pr.n_mentors, [], problem=plain, bonus=bonus)["reason"].tolist()

    held = reasons(ObjectiveBonus("per_pair", per_pair))
    assert held == reasons(lambda problem: ObjectiveBonus("per_pair", per_pair))  # (called on it)
    goal = dense + extra[:, None]
    best = expanded_optimum(goal, cap)
    for i, text in zip(row[idx], held):
        need = np.array([best - expanded_optimum(goal, cap, place_out=j) for j in range(m)]) - extra[i]
        assert_states_the_closest_need(text, need, dense[i])
    quiet = reasons(ObjectiveBonus("not_held"))
    assert all("needed" not in t and "a tie" not in t and "weakest pair scores" in t for t in quiet)
    assert quiet == reasons(lambda problem: ObjectiveBonus("not_held"))
    assert reasons(NO_BONUS) == reasons(ObjectiveBonus("per_pair", np.zeros(len(per_pair))))
