# What a bound pass's block scan adds to each row of the block's product first
# (:class:`mentormatch.scale_codes.BlockRest`; included in scan.pyx, after loops.h's externs).


cdef struct Rest:  # what is added to the block's product first (scale.BlockRest), rows ascending
    const int64_t* edges  # run g: rows edges[g]:edges[g + 1]
    const float* adds  # run g's row: adds + g * m
    Py_ssize_t n_runs
    const uint8_t* codes  # coded group g's mentor codes: codes + g * m
    const float* lookup  # row r's lookup rows: lookup + (r * n_codes + g) * MM_CODES
    Py_ssize_t n_codes
    const int64_t* inc_r
    const int64_t* inc_c
    const float* inc_v
    Py_ssize_t n_inc
    const int64_t* put_r
    const int64_t* put_c
    const float* put_v
    Py_ssize_t n_put
    const float* lmul  # the product's factors (NULL: none; the block holds the product)
    const float* rmul


cdef inline void _add_rest(Rest* rest, float* x, Py_ssize_t r, Py_ssize_t m, Py_ssize_t* run, Py_ssize_t* ii,
                           Py_ssize_t* ip) noexcept nogil:
    """Row ``r``'s rest added to ``x`` (rows ascending; ``run``, ``ii``, ``ip``: where the group
    runs, the stated and the removed pairs are, kept between rows): the product's factors or
    the group run's row and the coded groups' values, then the stated pairs added and the
    removed pairs set, in the order of ``BlockRest.apply``."""
    if rest.n_runs:
        while run[0] + 1 < rest.n_runs and rest.edges[run[0] + 1] <= r:
            run[0] += 1
    if rest.n_codes or rest.rmul != NULL:
        mm_codes(x, rest.adds + run[0] * m if rest.n_runs else NULL,
                 rest.lookup + r * rest.n_codes * MM_CODES if rest.n_codes else NULL,
                 rest.codes, rest.n_codes, m, rest.rmul, rest.lmul[r] if rest.rmul != NULL else 0.0)
    elif rest.n_runs:
        mm_add(x, rest.adds + run[0] * m, m)
    while ii[0] < rest.n_inc and rest.inc_r[ii[0]] == r:
        x[rest.inc_c[ii[0]]] += rest.inc_v[ii[0]]
        ii[0] += 1
    while ip[0] < rest.n_put and rest.put_r[ip[0]] == r:
        x[rest.put_c[ip[0]]] = rest.put_v[ip[0]]
        ip[0] += 1
