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


cdef inline void _sipround(uint64_t* v) noexcept nogil:
    """One SipRound on the state ``v[0..3]``."""
    v[0] += v[1]; v[1] = _rotl(v[1], 13); v[1] ^= v[0]; v[0] = _rotl(v[0], 32)
    v[2] += v[3]; v[3] = _rotl(v[3], 16); v[3] ^= v[2]
    v[0] += v[3]; v[3] = _rotl(v[3], 21); v[3] ^= v[0]
    v[2] += v[1]; v[1] = _rotl(v[1], 17); v[1] ^= v[2]; v[2] = _rotl(v[2], 32)


cdef uint64_t _siphash24(const unsigned char* data, Py_ssize_t size, uint64_t k0,
                         uint64_t k1) noexcept nogil:
    """SipHash-2-4 of ``size`` bytes (the reference algorithm, as pandas' hash_object_array)."""
    cdef uint64_t v[4]
    cdef uint64_t mi, b = (<uint64_t>size) << 56
    cdef Py_ssize_t end = size - size % 8, q
    cdef int k
    v[0], v[1] = 0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1
    v[2], v[3] = 0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1
    for q in range(0, end, 8):
        mi = _le64(data + q)
        v[3] ^= mi
        _sipround(v)
        _sipround(v)
        v[0] ^= mi
    for k in range(size % 8):
        b |= (<uint64_t>data[end + k]) << (8 * k)
    v[3] ^= b
    _sipround(v)
    _sipround(v)
    v[0] ^= b
    v[2] ^= 0xff
    for k in range(4):
        _sipround(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


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
