# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""What a bound pass keeps of one block ``s`` (rows x mentors, float32, C order) after the
product, in one read of each row: the row's ``pk`` best entries (its pool), the entries above
the row's limit (the suspects, a crowded row's ``per_row`` largest), and each column's maximum
and the first row attaining it. The compiled twin of
:func:`mentormatch.solvers.bounded.blockscan.numpy_scan`, whose docstring states the outputs;
the two give identical arrays (ties to the lower column, then the lower row). Plain C loops
(the two that read a whole row are in ``loops.h``, in a form the compiler vectorises), the
GIL released: a pass runs its blocks on threads. Also the checker's reads of its pools
(``pool_over``, ``pool_top``, ``abs_max``: ``pools.pxi``), each row's most
violating of a check's violators (``kept_rows``: ``kept.pxi``) and where sorted keys stand in
a sorted array (``lookup_sorted``: ``sorted.pxi``)."""
from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc, realloc

import numpy as np

cdef extern from "loops.h" nogil:
    enum: MM_CHUNK  # columns tested together before any is looked at one by one
    bint mm_any_above(const float* x, float cut)
    void mm_col_max(const float* x, float* top, int32_t* best, Py_ssize_t m, int32_t r)
    void mm_add(float* x, const float* a, Py_ssize_t m)
    Py_ssize_t mm_skip(const float* x, Py_ssize_t j, Py_ssize_t m, float cut, const float* next)
    enum: MM_GROUPS  # mentor groups at most
    void mm_group_max(const float* x, const uint8_t* grp, float* gf, Py_ssize_t m, Py_ssize_t n_groups)
    float mm_range_max(const float* x, Py_ssize_t n, float init)
    float mm_below(float v)
    enum: MM_CODES  # entries of a coded group's lookup row
    void mm_codes(float* x, const float* a, const float* t, const uint8_t* codes, Py_ssize_t n_codes, Py_ssize_t m,
                  const float* rmul, float lmul)
    bint mm_codes_fast()


include "entries.pxi"  # (a row's best entries in a heap, a whole row's; a sampled q-th value; a growing list of pairs)


include "rest.pxi"  # (what is added to the block's product, a row at a time: scale.BlockRest)


cdef int _rows(float* s, Py_ssize_t n, Py_ssize_t m, Py_ssize_t pk, int64_t* pool_c, float* pool_v,
               float* floor, bint sus, const float* limit, const int64_t* ci, const int64_t* cj,
               Py_ssize_t n_chosen, Py_ssize_t per_row, bint keep_all, Buf* kept, Buf* crowded_top,
               Buf* crowded, float* top, int32_t* best, Rest* rest, const uint8_t* grp, Py_ssize_t n_groups,
               float depth, float* gfloor, const int64_t* colid, const int64_t* inv,
               const int64_t* gstart) noexcept nogil:
    """The loop over the rows (see :func:`scan_block`); -1 when out of memory.

    A row at a time: the rest of the bound added (``rest``: its group run's row, then its
    stated pairs added and its removed pairs set, in the order of ``BlockRest.apply``), each
    column's maximum (reading the row from memory; the chosen pairs at
    ``-inf`` for it), then, from the cache (the next row's chunks asked for meanwhile), the
    pool's threshold from a sample of the columns (as
    :func:`mentormatch.solvers.bounded.rank._row_best` takes it: about ``3 pk`` entries above
    it), and the entries above it (into the pool's heap, whose root then raises the threshold)
    and above the limit (the suspects), looked at one by one only in a chunk of columns where
    any is above. With mentor groups (``n_groups``), then each group's largest entry outside
    the pool (the pool's entries at ``-inf`` meanwhile), at least the floor less ``depth``
    (``mm_group_max``, a whole row).

    With ``colid`` (the block's columns in mentor group order: column ``t`` is mentor
    ``colid[t]``, ``inv`` its inverse, group ``g`` the columns ``gstart[g]:gstart[g + 1]``; no
    suspects), the pool holds mentors (``colid``), a tie with the heap's root is looked at (the
    lower mentor ranks first, wherever its column), and each group's floor is the maximum of a
    contiguous range (``mm_range_max``): the same pool and floors as the mentors' own order."""
    cdef Py_ssize_t r, j, t, stop, at = 0, lo, w, nc, ns, step = 0, q = 0, run = 0, ii = 0, ip = 0
    cdef float* x
    cdef float v, thr, lim, cut, gcut
    cdef float* gf
    cdef int64_t* prow
    cdef bint sampled = pk > 0 and m >= 16 * pk
    cdef Entry* h = <Entry*> malloc((max(pk, per_row) + 1) * sizeof(Entry))
    cdef float* qh = <float*> malloc((m // 8 + 2) * sizeof(float))
    cdef int64_t* susc = <int64_t*> malloc(m * sizeof(int64_t))
    cdef int64_t* tmp = <int64_t*> malloc((per_row + 1) * sizeof(int64_t))
    cdef float* saved = <float*> malloc((n_chosen + 1) * sizeof(float))
    cdef int rc = 0
    if h == NULL or qh == NULL or susc == NULL or tmp == NULL or saved == NULL:
        rc = -1
    if sampled:  # (the sample of _row_best: every 32nd column where rows are wide, else every 8th)
        step, q = (32, max(1, 3 * pk // 32)) if m >= 128 * pk else (8, max(1, 2 * pk // 8))
    for r in range(n if rc == 0 else 0):
        x = s + r * m
        lim = limit[r] if sus else INFINITY
        lo = at
        while at < n_chosen and ci[at] == r:
            at += 1
        _add_rest(rest, x, r, m, &run, &ii, &ip)  # the rest of the bound (the row read from memory once, here)
        if top != NULL:  # each column's maximum and the first row attaining it
            if sus:
                for t in range(lo, at):
                    saved[t] = x[cj[t]]
                    x[cj[t]] = -INFINITY
            if r == 0:
                for j in range(m):
                    top[j] = x[j]
                    best[j] = 0
            else:
                mm_col_max(x, top, best, m, <int32_t> r)
            if sus:  # (the pool keeps them; in reverse, should a pair come twice)
                t = at - 1
                while t >= lo:
                    x[cj[t]] = saved[t]
                    t -= 1
        thr = INFINITY
        if sampled:
            thr = _sample_kth(x, m, step, q, qh)
        elif pk:
            thr = -INFINITY
        nc = ns = 0
        if pk or sus:
            cut = thr if thr < lim else lim
            j = 0
            while j < m:
                # the next chunk with an entry above the cut, or the last part one (the next
                # row's columns asked for meanwhile, on their way while this row is worked on)
                j = mm_skip(x, j, m, cut, x + m if r + 1 < n else NULL)
                if j < m:
                    stop = j + MM_CHUNK
                    if stop > m:
                        stop = m
                    if colid != NULL:  # (group order: ties looked at, see above)
                        for t in range(j, stop):
                            v = x[t]
                            if v > cut:
                                if nc < pk:  # (filling: cut is thr)
                                    h[nc].v = v
                                    h[nc].c = colid[t]
                                    _sift_up(h, nc)
                                    nc += 1
                                    if nc == pk:
                                        thr = h[0].v
                                        cut = mm_below(thr)
                                elif v > thr or colid[t] < h[0].c:  # (v >= thr: a tie ranks by mentor)
                                    h[0].v = v
                                    h[0].c = colid[t]
                                    _sift_down(h, pk, 0)
                                    thr = h[0].v
                                    cut = mm_below(thr)
                        j = stop
                        continue
                    for t in range(j, stop):  # (a branch: about 1 % of the entries pass)
                        v = x[t]
                        if v > cut:
                            if v > thr:  # into the pool's heap: filling, or above its root
                                if nc < pk:
                                    h[nc].v = v
                                    h[nc].c = t
                                    _sift_up(h, nc)
                                    nc += 1
                                    if nc == pk:
                                        thr = h[0].v
                                else:  # (a tie has a higher column: it ranks after the root)
                                    h[0].v = v
                                    h[0].c = t
                                    _sift_down(h, pk, 0)
                                    thr = h[0].v
                                cut = thr if thr < lim else lim
                            if v > lim:
                                susc[ns] = t
                                ns += 1
                    j = stop
        if pk:
            if nc < pk:  # too few above the sample's threshold: every entry ranks
                if colid != NULL:
                    _heap_row_ids(x, m, pk, h, colid)
                else:
                    _heap_row(x, m, pk, h)
            _drain(h, pk, pool_c + r * pk, pool_v + r * pk)
            floor[r] = pool_v[r * pk + pk - 1]
            if n_groups:  # each group's largest entry outside the pool (see numpy_scan)
                gf = gfloor + r * n_groups
                gcut = floor[r] - depth
                for t in range(n_groups):
                    gf[t] = gcut
                prow = pool_c + r * pk
                if gstart != NULL:  # (group order: a range a group; the pool's columns by inv)
                    for t in range(pk):
                        x[inv[prow[t]]] = -INFINITY
                    for t in range(n_groups):
                        gf[t] = mm_range_max(x + gstart[t], gstart[t + 1] - gstart[t], gcut)
                    for t in range(pk):
                        x[inv[prow[t]]] = pool_v[r * pk + t]
                else:
                    for t in range(pk):
                        x[prow[t]] = -INFINITY
                    mm_group_max(x, grp, gf, m, n_groups)
                    for t in range(pk):
                        x[prow[t]] = pool_v[r * pk + t]
        if sus:
            for t in range(lo, at):  # the chosen pairs leave the row (after its pool) and its suspects
                x[cj[t]] = -INFINITY
            if at > lo:
                w = 0
                for t in range(ns):
                    if x[susc[t]] > lim:
                        susc[w] = susc[t]
                        w += 1
                ns = w
            if not keep_all and ns > per_row:  # a crowded row: its per_row largest suspects
                for t in range(per_row):
                    h[t].v = x[susc[t]]
                    h[t].c = susc[t]
                    _sift_up(h, t)
                for t in range(per_row, ns):
                    v = x[susc[t]]
                    if v > h[0].v:
                        h[0].v = v
                        h[0].c = susc[t]
                        _sift_down(h, per_row, 0)
                _drain(h, per_row, tmp, NULL)
                for t in range(per_row):
                    if _push(crowded_top, r, tmp[t]):
                        rc = -1
                if _push(crowded, r, 0):
                    rc = -1
            else:
                for t in range(ns):
                    if _push(kept, r, susc[t]):
                        rc = -1
            if rc:
                break
    free(h)
    free(qh)
    free(susc)
    free(tmp)
    free(saved)
    return rc


cdef object _array(Buf* b, bint rows):
    out = np.empty(b.n, np.int64)
    cdef int64_t[::1] o = out
    cdef int64_t* src = b.r if rows else b.c
    cdef Py_ssize_t t
    for t in range(b.n):
        o[t] = src[t]
    return out


def _check_pairs(r, c, Py_ssize_t n, Py_ssize_t m, str what, v=None):
    """Pairs written through (rows ascending, inside the block; as many values ``v``): else a
    ValueError."""
    r, c = np.asarray(r), np.asarray(c)
    if len(r) != len(c) or (v is not None and len(v) != len(r)) or (len(r) and (r[0] < 0 or r[-1] >= n or c.min() < 0 or c.max() >= m
                                        or np.any(r[1:] < r[:-1]))):
        raise ValueError(f"scan_block: {what} outside a block of {n} x {m} or rows not ascending")


def scan_block(float[:, ::1] s, Py_ssize_t pk, const float[::1] limit, const int64_t[::1] ci,
               const int64_t[::1] cj, Py_ssize_t per_row, bint keep_all, bint want_top, rest=None,
               groups=None, order=None):
    """``(pool, suspects, tops)`` of the block ``s``, as
    :func:`mentormatch.solvers.bounded.blockscan.numpy_scan` (``limit`` None: no suspects;
    ``ci``, ``cj``: the chosen pairs, rows local to the block and ascending; ``rest``: a
    :class:`mentormatch.scale.BlockRest` added to ``s`` first, or None). ``s`` is changed as
    there: the rest added, the chosen pairs ``-inf`` when there is a ``limit``. ``groups``
    (:class:`mentormatch.solvers.bounded.groups.Groups`, with ``pk``): the pool's fourth part,
    each group's floor. ``order`` (:class:`mentormatch.solvers.bounded.groups.GroupOrder`, with
    ``groups``, no ``limit``): ``s``'s columns are the mentors in group order (``order.perm``):
    the pool's columns are mentors, each column's maximum and best row are the view's columns'
    (the caller maps them back with ``order.inv``)."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1]
    cdef bint sus = limit is not None
    if pk > m or pk < 0 or per_row < 1 or (sus and limit.shape[0] != n) or ci.shape[0] != cj.shape[0]:
        raise ValueError(f"scan_block: pk {pk}, per_row {per_row}, limit or chosen pairs do not fit a block of {n} x {m}")
    if ci.shape[0]:  # (written through: out of the block would write past it)
        _check_pairs(ci, cj, n, m, "chosen pairs")
    cdef Rest rs
    rs.n_runs = rs.n_inc = rs.n_put = rs.n_codes = 0
    rs.lmul = rs.rmul = NULL
    cdef const int64_t[::1] edges, inc_r, inc_c, put_r, put_c
    cdef const float[:, ::1] adds
    cdef const float[::1] inc_v, put_v
    cdef const uint8_t[:, ::1] codes
    cdef const float[:, :, ::1] lookup
    cdef const float[::1] lmul, rmul
    if rest is not None:
        adds = np.ascontiguousarray(rest.adds, np.float32)
        edges = np.ascontiguousarray(rest.edges, np.int64)
        if adds.shape[0] and (adds.shape[1] != m or edges.shape[0] != adds.shape[0] + 1 or edges[0] != 0
                              or edges[adds.shape[0]] != n or np.any(np.diff(rest.edges) <= 0)):
            raise ValueError(f"scan_block: the rest's group runs do not fit a block of {n} x {m}")
        rs.n_runs = adds.shape[0]
        if rs.n_runs:
            rs.adds, rs.edges = &adds[0, 0], &edges[0]
        if rest.codes is not None and len(rest.codes):
            codes = np.ascontiguousarray(rest.codes, np.uint8)
            lookup = np.ascontiguousarray(rest.lookup, np.float32)
            if (codes.shape[1] != m or lookup.shape[0] != n or lookup.shape[1] != codes.shape[0]
                    or lookup.shape[2] != MM_CODES or (m and np.asarray(codes).max() >= MM_CODES)):
                raise ValueError(f"scan_block: the rest's coded groups do not fit a block of {n} x {m}")
            rs.n_codes = codes.shape[0]
            if m and n:
                rs.codes, rs.lookup = &codes[0, 0], &lookup[0, 0, 0]
            else:
                rs.n_codes = 0
        if getattr(rest, "lmul", None) is not None:
            lmul = np.ascontiguousarray(rest.lmul, np.float32)
            rmul = np.ascontiguousarray(rest.rmul, np.float32)
            if lmul.shape[0] != n or rmul.shape[0] != m:
                raise ValueError(f"scan_block: the rest's product factors do not fit a block of {n} x {m}")
            if n and m:
                rs.lmul, rs.rmul = &lmul[0], &rmul[0]
        if rest.inc is not None and len(rest.inc[0]):
            _check_pairs(rest.inc[0], rest.inc[1], n, m, "stated pairs", rest.inc[2])
            inc_r, inc_c = np.ascontiguousarray(rest.inc[0], np.int64), np.ascontiguousarray(rest.inc[1], np.int64)
            inc_v = np.ascontiguousarray(rest.inc[2], np.float32)
            rs.inc_r, rs.inc_c, rs.inc_v, rs.n_inc = &inc_r[0], &inc_c[0], &inc_v[0], inc_r.shape[0]
        if rest.put is not None and len(rest.put[0]):
            _check_pairs(rest.put[0], rest.put[1], n, m, "removed pairs", rest.put[2])
            put_r, put_c = np.ascontiguousarray(rest.put[0], np.int64), np.ascontiguousarray(rest.put[1], np.int64)
            put_v = np.ascontiguousarray(rest.put[2], np.float32)
            rs.put_r, rs.put_c, rs.put_v, rs.n_put = &put_r[0], &put_c[0], &put_v[0], put_r.shape[0]
    pool_c = np.empty((n, pk), np.int64)
    pool_v = np.empty((n, pk), np.float32)
    floor = np.empty(n, np.float32)
    top = np.empty(m if want_top else 0, np.float32)
    best = np.empty(m if want_top else 0, np.int32)
    cdef int64_t[:, ::1] pc = pool_c
    cdef float[:, ::1] pv = pool_v
    cdef float[::1] fl = floor, tp = top
    cdef int32_t[::1] bs = best
    cdef Buf kept, crowded_top, crowded
    kept.r = kept.c = crowded_top.r = crowded_top.c = crowded.r = crowded.c = NULL
    kept.n = kept.cap = crowded_top.n = crowded_top.cap = crowded.n = crowded.cap = 0
    cdef float* sp = &s[0, 0] if n and m else NULL
    cdef const float* lp = &limit[0] if sus and n else NULL
    cdef const int64_t* cip = &ci[0] if ci.shape[0] else NULL
    cdef const int64_t* cjp = &cj[0] if cj.shape[0] else NULL
    cdef int64_t* pcp = &pc[0, 0] if n and pk else NULL
    cdef float* pvp = &pv[0, 0] if n and pk else NULL
    cdef float* flp = &fl[0] if n else NULL
    cdef float* tpp = &tp[0] if want_top and m else NULL
    cdef int32_t* bsp = &bs[0] if want_top and m else NULL
    cdef int rc = 0
    cdef Py_ssize_t n_groups = 0 if groups is None or not pk else groups.count
    cdef const uint8_t[::1] grp
    cdef const uint8_t* gp = NULL
    cdef float depth = 0.0
    gfloor = np.empty((n, n_groups), np.float32)
    cdef float[:, ::1] gfv = gfloor
    cdef float* gfp = &gfv[0, 0] if n and n_groups else NULL
    if n_groups:
        if n_groups > MM_GROUPS or len(groups.of) != m or (m and (groups.of.min() < 0 or groups.of.max() >= n_groups)):
            raise ValueError(f"scan_block: the mentor groups do not fit a block of {n} x {m}")
        grp = np.ascontiguousarray(groups.of, np.uint8)
        gp = &grp[0] if m else NULL
        depth = groups.depth
    cdef const int64_t[::1] colid, inv, gstart
    cdef const int64_t* cdp = NULL
    cdef const int64_t* ivp = NULL
    cdef const int64_t* gsp = NULL
    if order is not None:
        colid = np.ascontiguousarray(order.perm, np.int64)
        inv = np.ascontiguousarray(order.inv, np.int64)
        gstart = np.ascontiguousarray(order.starts, np.int64)
        if (not n_groups or sus or colid.shape[0] != m or inv.shape[0] != m or gstart.shape[0] != n_groups + 1
                or (m and (gstart[0] != 0 or gstart[n_groups] != m or np.any(np.diff(order.starts) < 0)
                           or not np.array_equal(np.asarray(order.perm)[np.asarray(order.inv)], np.arange(m))))):
            raise ValueError(f"scan_block: the group order does not fit a block of {n} x {m} with groups and no limit")
        if m:
            cdp, ivp, gsp = &colid[0], &inv[0], &gstart[0]
    if n and m:
        with nogil:
            rc = _rows(sp, n, m, pk, pcp, pvp, flp, sus, lp, cip, cjp, ci.shape[0], per_row, keep_all,
                       &kept, &crowded_top, &crowded, tpp, bsp, &rs, gp, n_groups, depth, gfp, cdp, ivp, gsp)
    try:
        if rc:
            raise MemoryError("scan_block: no memory for a block's suspects")
        pool = None if not pk else (pool_c, pool_v, floor, gfloor) if n_groups else (pool_c, pool_v, floor)
        suspects = None
        if sus:
            rr = np.concatenate([_array(&kept, True), _array(&crowded_top, True)])
            cc = np.concatenate([_array(&kept, False), _array(&crowded_top, False)])
            suspects = (rr, cc, _array(&crowded, True))
        tops = (top, best.astype(np.int64)) if want_top else None
        return pool, suspects, tops
    finally:
        free(kept.r); free(kept.c); free(crowded_top.r); free(crowded_top.c); free(crowded.r); free(crowded.c)


def codes_fast():
    """Whether the block scan adds coded groups (``BlockRest.codes``) 8 columns at once on this
    CPU (AVX2): where not, :class:`mentormatch.scale.BoundedScorer` keeps them in the product
    (see ``loops.h``)."""
    return bool(mm_codes_fast())


include "pools.pxi"  # (the bounds checker's reads of its pools: pool_over, pool_top, abs_max)


include "kept.pxi"  # (each row's most violating of a check's violators: kept_rows)


include "sorted.pxi"  # (where sorted keys stand in a sorted array: lookup_sorted)
