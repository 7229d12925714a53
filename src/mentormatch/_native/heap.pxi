# The binary min-heap on (key, node) of the compiled Dijkstra searches (flow.pyx, assign.pyx),
# included by both: ties of keys go to the lower node, so a search settles nodes in one order.
# ``hk``/``hv`` hold the keys and nodes, ``size`` the count; the caller reads the top
# (``hk[0]``, ``hv[0]``) before ``_pop``.

cdef inline void _push(int64_t* hk, int64_t* hv, Py_ssize_t* size, int64_t key, int64_t v) noexcept nogil:
    """Into the binary min-heap on (key, node)."""
    cdef Py_ssize_t i = size[0], parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] < key or (hk[parent] == key and hv[parent] <= v):
            break
        hk[i], hv[i] = hk[parent], hv[parent]
        i = parent
    hk[i], hv[i] = key, v


cdef inline void _pop(int64_t* hk, int64_t* hv, Py_ssize_t* size) noexcept nogil:
    """Remove the heap's top."""
    cdef Py_ssize_t n = size[0] - 1, i = 0, child
    cdef int64_t key = hk[n], v = hv[n]
    size[0] = n
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and (hk[child + 1] < hk[child] or (hk[child + 1] == hk[child] and hv[child + 1] < hv[child])):
            child += 1
        if key < hk[child] or (key == hk[child] and v <= hv[child]):
            break
        hk[i], hv[i] = hk[child], hv[child]
        i = child
    hk[i], hv[i] = key, v
