"""``pair()`` and ``assign()``: validate -> candidates -> score -> constrain -> solve -> Matching.

One concern per module (each imports only the ones listed above it):

- :mod:`~mentormatch.pipeline.order`: the tie rule, :func:`seeded_order`;
- :mod:`~mentormatch.pipeline.wrap`: the shared tail (run the solver, ranks, reasons, the
  result), :func:`baseline`;
- :mod:`~mentormatch.pipeline.prepared`: :class:`Prepared`, and what the rules ask of the solver
  (side constraints, the solver's name);
- :mod:`~mentormatch.pipeline.reader`: a scale-path round's pairs on demand (stable, baselines);
- :mod:`~mentormatch.pipeline.large`: the scale path (block scores or bounds, certified);
- :mod:`~mentormatch.pipeline.bonus`: an objective bonus on held pairs, in the objective only
  (the engine takes it apart; other solvers on ``score + bonus`` where no constraint reads scores);
- :mod:`~mentormatch.pipeline.tables`: :func:`pair`, :func:`prepare`, :func:`solve` on people
  tables, :func:`resolve_framework`;
- :mod:`~mentormatch.pipeline.matrix`: :func:`assign` on the caller's score matrix.

The settings below live here, in the package, and the modules read them at call time: setting
``mentormatch.pipeline.LARGE_PAIRS`` (as tests do with ``monkeypatch.setattr``) takes effect.
"""
from __future__ import annotations

# -- settings (read at call time by the modules below) ---------------------------------------
#: Pairs x re-solves spent on exact "capacity taken" reasons, counting the re-solve of the optimum
#: they start from; beyond it reasons stay approximate (and say that the exact check was skipped).
#: A solve of 885,000 pairs takes about 4 s: counted without that first solve, the budget let the
#: 100,000 x 20,000 scale run spend 9 s on the reason of one unmatched mentee.
REASON_SOLVE_BUDGET = 1_000_000
#: Above this many (mentee, mentor) pairs, pair() never materialises every pair: scores are
#: computed in blocks of mentee rows, each mentee's best pairs are solved exactly by min-cost
#: flow and the optimum is certified against every pair with dual prices.
LARGE_PAIRS = 4_000_000
#: The scale path's plain flow uses the features' bounds where the rules allow (False: always
#: score blocks exactly; the same pairs, slower).
USE_BOUNDS = True
#: Up to this many pairs the scale path keeps the block scores in memory between the top-k pass
#: and the certificate's checks (8 bytes a pair: 256 MB at the limit).
SCORE_CACHE_PAIRS = 32_000_000
#: At most this many unmatched mentees without a pair in the solver's set get their whole row
#: scored for their reasons (one row costs a pass over the mentors).
STRANDED_ROWS = 2_000

# -- the modules (after the settings, which they read through this package) ------------------
from ..solvers.base import PairBonus  # noqa: E402  (re-exported: solve() takes one)
from .matrix import assign  # noqa: E402
from .order import seeded_order  # noqa: E402
from .prepared import Prepared  # noqa: E402
from .tables import pair, prepare, resolve_framework, solve  # noqa: E402
from .wrap import baseline  # noqa: E402
# used by tests and benchmarks (the ranks that assign() and pair() report)
from .wrap import _rank_of_chosen as _rank_of_chosen  # noqa: E402
from .wrap import _rank_of_pairs as _rank_of_pairs  # noqa: E402

__all__ = ["assign", "baseline", "pair", "prepare", "solve", "Prepared", "PairBonus",
           "seeded_order", "resolve_framework",
           "LARGE_PAIRS", "USE_BOUNDS", "SCORE_CACHE_PAIRS", "STRANDED_ROWS", "REASON_SOLVE_BUDGET"]
