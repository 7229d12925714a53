"""What the scale path's tasks carry on a Dask LocalCluster, and whether Dask warns.

Runs ``pair()`` at ``NxM`` with ``executor=`` a ``distributed.LocalCluster(n_workers=2,
processes=True)``'s executor, and prints the wall time, the number of "Sending large graph"
warnings (Dask's threshold: ``distributed.admin.large-graph-warning-threshold``, 10 MB) and the
largest pickled task arguments (futures aside: Dask sends their keys).

    PYTHONPATH=src python benchmarks/dask_graph.py 20000x6000

(At 20,000 x 6,000 the first prices come from two nested sub-markets, whose passes are views
of every 5th and 25th mentee; their tasks carried the most before the rows were sent once.)
"""
from __future__ import annotations

import pickle
import sys
import time
import warnings

SIZES: list = []


class _Sizing:
    """An executor that records the pickled size of what each task carries."""

    def __init__(self, inner):
        self.inner, self._client = inner, inner._client

    def submit(self, fn, *args):
        SIZES.append((fn.__name__, sum(len(pickle.dumps(a)) for a in args if type(a).__name__ != "Future")))
        return self.inner.submit(fn, *args)


def main() -> None:
    import distributed

    import mentormatch as mm
    from mentormatch import pipeline as pl

    n, m = (int(x) for x in sys.argv[1].lower().split("x"))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = time.perf_counter()
            r = pl.pair(mentors, mentees, executor=_Sizing(client.get_executor()))
            wall = time.perf_counter() - t
    large = [w for w in caught if "large graph" in str(w.message)]
    scan = max([s for f, s in SIZES if f == "scan_task"], default=0)
    print(f"{n} x {m}: {wall:.1f} s, {r.status}, objective {r.objective:.6f}, {len(SIZES)} tasks, "
          f"{len(large)} large-graph warnings, largest task {max(s for _, s in SIZES) / 1e6:.2f} MB "
          f"(bound-pass task {scan / 1e6:.2f} MB)")
    for w in large[:3]:
        print("  ", str(w.message).splitlines()[0])


if __name__ == "__main__":
    main()
