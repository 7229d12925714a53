"""The README's quick start runs as written: its Python blocks, in order, in one namespace.

(STYLE: "the README and notebooks executed as tests"; the notebooks are ``test_notebooks``.) The
quick start's ``mm.assign(scores, capacity, ...)`` line brings its own scores: the test gives it
a small mentees x mentors table first, as a user would."""
import re
from pathlib import Path

import numpy as np
import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(section: str) -> list[str]:
    """The ```python blocks of a README section: from its heading to the next heading of its
    level or above (a ``#`` line inside a fenced block is a comment, not a heading)."""
    level = len(section) - len(section.lstrip("#"))
    blocks, current, inside, fence = [], None, False, None
    for line in README.read_text(encoding="utf-8").splitlines():
        if fence is None and re.match(r"#{1,%d} " % level, line):
            inside = line == section
            continue
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                current = [] if inside and fence == "python" else None
            else:
                if current is not None:
                    blocks.append("\n".join(current) + "\n")
                fence, current = None, None
            continue
        if current is not None:
            current.append(line)
    return blocks


def test_quick_start_runs_and_its_comments_hold():
    blocks = _blocks("## Quick start (Python)")
    assert len(blocks) == 2  # the quick start and "what a result keeps"
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.random((12, 4)), index=[f"e{i}" for i in range(12)],
                          columns=[f"m{j}" for j in range(4)])
    capacity = pd.Series(2, index=scores.columns)
    ns = {"scores": scores, "capacity": capacity}
    exec(compile("\n".join(blocks), str(README), "exec"), ns)
    result = ns["result"]  # the assign() result: the last one the block makes
    assert result.status == "optimal" and len(result.pairs) == 8
    # "# mentee_id, mentor_id, score, rank, ..." and "# mentee_id, reason_code, reason"
    mm = ns["mm"]
    mentors, mentees = ns["mentors"], ns["mentees"]
    paired = mm.pair(mentors, mentees, programme=None)
    assert list(paired.pairs.columns[:4]) == ["mentee_id", "mentor_id", "score", "rank"]
    assert list(paired.unmatched.columns[:3]) == ["mentee_id", "reason_code", "reason"]
    # "rows sum to the score"
    assert np.allclose(paired.contributions.sum(axis=1).to_numpy(), paired.pairs["score"].to_numpy())
    assert set(paired.pairs["mentee_id"]) | set(paired.unmatched["mentee_id"]) == set(mentees["id"])
