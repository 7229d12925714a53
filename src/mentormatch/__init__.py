"""mentormatch: optimal, explained and fair mentor-mentee pairing.

>>> import mentormatch as mm
>>> mentors, mentees = mm.synthetic.organisation(n_mentees=20, n_mentors=8, seed=1)
>>> result = mm.pair(mentors, mentees)
>>> len(result.pairs) + len(result.unmatched) == len(mentees)
True
"""
from __future__ import annotations

import importlib

from .errors import InfeasibleError, MentormatchError, StoreError, UnknownNameError, ValidationError
from .matching import Matching
from .pipeline import assign, baseline, pair
from .record import SolveRecord
from .rules import Rules

_LAZY = {"synthetic": ".synthetic", "careers": ".careers", "schema": ".schema", "CareerFramework": ".careers",
         "Programme": ".programme", "testing": ".testing",
         "batch": ".batch", "pair_many": ".batch", "JobResult": ".batch",
         "whatif": ".whatif", "learn": ".learn"}


def __getattr__(name: str):
    # Submodules with heavier imports load on first use, so `import mentormatch` stays cheap.
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        return module if name == _LAZY[name][1:] else getattr(module, name)
    raise AttributeError(f"module 'mentormatch' has no attribute {name!r}")


__all__ = ["synthetic", "careers", "CareerFramework", "Programme", "InfeasibleError",
           "MentormatchError", "UnknownNameError", "ValidationError", "Matching", "assign",
           "baseline", "pair", "Rules", "StoreError", "batch", "pair_many", "JobResult", "whatif",
           "learn", "SolveRecord"]
