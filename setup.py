"""The optional compiled kernels (:mod:`mentormatch._native`); everything else is declared in
pyproject.toml. ``optional=True``: where the extension cannot be built (no C compiler, no
Cython), the install goes on and the library runs its numpy code, with identical answers.
Portable flags only (no OpenMP, no -march=native)."""
from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: the numpy code only
    extensions = []
else:
    extensions = cythonize([Extension("mentormatch._native.scan", ["src/mentormatch/_native/scan.pyx"],
                                      depends=["src/mentormatch/_native/loops.h",
                                               "src/mentormatch/_native/pools.pxi",
                                               "src/mentormatch/_native/entries.pxi",
                                               "src/mentormatch/_native/rest.pxi",
                                               "src/mentormatch/_native/kept.pxi",
                                               "src/mentormatch/_native/sorted.pxi"], optional=True),
                            Extension("mentormatch._native.flow", ["src/mentormatch/_native/flow.pyx"],
                                      depends=["src/mentormatch/_native/heap.pxi",
                                               "src/mentormatch/_native/flow_phases.pxi",
                                               "src/mentormatch/_native/flow_meet.pxi",
                                               "src/mentormatch/_native/potentials.pxi"], optional=True),
                            Extension("mentormatch._native.assign", ["src/mentormatch/_native/assign.pyx"],
                                      depends=["src/mentormatch/_native/heap.pxi",
                                               "src/mentormatch/_native/assign_graph.pxi",
                                               "src/mentormatch/_native/assign_ties.pxi",
                                               "src/mentormatch/_native/assign_costs.pxi",
                                               "src/mentormatch/_native/assign_dense.pxi",
                                               "src/mentormatch/_native/assign_order.pxi",
                                               "src/mentormatch/_native/assign_glue.pxi",
                                               "src/mentormatch/_native/assign_pick.pxi",
                                               "src/mentormatch/_native/assign_face.pxi",
                                               "src/mentormatch/_native/assign_keyed.pxi"],
                                      optional=True),
                            Extension("mentormatch._native.gather", ["src/mentormatch/_native/gather.pyx"],
                                      optional=True),
                            Extension("mentormatch._native.prices", ["src/mentormatch/_native/prices.pyx"],
                                      optional=True)],
                           language_level=3, quiet=True)
    for ext in extensions:
        ext.optional = True

setup(ext_modules=extensions)
