# (included by assign.pyx: the seeded order's hash of the ids, for assign()'s small path; the
# module's imports are in scope)
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_Check


cdef inline uint64_t _rotl(uint64_t x, int b) noexcept nogil:
    return (x << b) | (x >> (64 - b))


cdef inline uint64_t _le64(const unsigned char* p) noexcept nogil:
    cdef uint64_t x = 0
    cdef int k
    for k in range(8):
        x |= (<uint64_t>p[k]) << (8 * k)
    return x


cdef uint64_t _siphash24(const unsigned char* data, Py_ssize_t size, uint64_t k0,
                         uint64_t k1) noexcept nogil:
    """SipHash-2-4 of ``size`` bytes (the reference algorithm, as pandas' hash_object_array)."""
    cdef uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1
    cdef uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1
    cdef uint64_t mi, b = (<uint64_t>size) << 56
    cdef Py_ssize_t end = size - size % 8, q
    cdef int r, k
    for q in range(0, end, 8):
        mi = _le64(data + q)
        v3 ^= mi
        for r in range(2):
            v0 += v1; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)
            v2 += v3; v3 = _rotl(v3, 16); v3 ^= v2
            v0 += v3; v3 = _rotl(v3, 21); v3 ^= v0
            v2 += v1; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)
        v0 ^= mi
    for k in range(size % 8):
        b |= (<uint64_t>data[end + k]) << (8 * k)
    v3 ^= b
    for r in range(2):
        v0 += v1; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)
        v2 += v3; v3 = _rotl(v3, 16); v3 ^= v2
        v0 += v3; v3 = _rotl(v3, 21); v3 ^= v0
        v2 += v1; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)
    v0 ^= b
    v2 ^= 0xff
    for r in range(4):
        v0 += v1; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)
        v2 += v3; v3 = _rotl(v3, 16); v3 ^= v2
        v0 += v3; v3 = _rotl(v3, 21); v3 ^= v0
        v2 += v1; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)
    return v0 ^ v1 ^ v2 ^ v3


def text_hashes(object[:] ids, bytes key):
    """``pandas.util.hash_array(ids, hash_key=key, categorize=False)`` for an object array of
    str (SipHash-2-4 of each id's UTF-8 bytes under the 16-byte ``key``, then pandas' mix), in
    one C loop: at 200 ids 3 us against pandas' 21 (its checks and temporaries). Raises
    TypeError on an id that is not a str, and UnicodeEncodeError on one that UTF-8 cannot
    encode: the caller asks pandas then."""
    if len(key) != 16:
        raise ValueError("text_hashes: the key must be 16 bytes")
    cdef const unsigned char* kb = key
    cdef uint64_t k0 = _le64(kb), k1 = _le64(kb + 8), x
    cdef Py_ssize_t n = ids.shape[0], i, size
    cdef const char* data
    out_a = np.empty(n, np.uint64)
    cdef uint64_t[::1] out = out_a
    for i in range(n):
        item = ids[i]
        if not PyUnicode_Check(item):
            raise TypeError("text_hashes: every id must be a str")
        data = PyUnicode_AsUTF8AndSize(item, &size)
        x = _siphash24(<const unsigned char*>data, size, k0, k1)
        x ^= x >> 30
        x *= 0xBF58476D1CE4E5B9ULL
        x ^= x >> 27
        x *= 0x94D049BB133111EBULL
        x ^= x >> 31
        out[i] = x
    return out_a
