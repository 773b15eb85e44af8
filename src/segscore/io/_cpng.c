/*
 * segscore.io._cpng: the PNG scanline filters undone, for 8-bit grayscale images.
 *
 * Plain C99 + CPython buffer protocol (no numpy headers), used by segscore.io.png, which checks
 * the file's chunks and inflates its image data (libdeflate) before calling this.
 *
 * unfilter_gray8(raw, out, width, height) -> bool
 *     raw holds height scanlines of 1 + width bytes: a filter type byte (0 None, 1 Sub, 2 Up,
 *     3 Average, 4 Paeth; PNG specification, section 9) and the filtered samples. The
 *     reconstructed samples go to out (height * width bytes, C-contiguous). False, with out
 *     partly written, when a filter type byte is above 4. The GIL is released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PNG_HAVE_SSE2 1
/* Inclusive running sums (mod 256) of 16 bytes, plus carry: the Sub filter undone on a block. */
static inline __m128i running_sum16(__m128i v, uint8_t carry) {
    v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 8));
    return _mm_add_epi8(v, _mm_set1_epi8((char)carry));
}
#else
#define PNG_HAVE_SSE2 0
#endif

/* Sub from x on: out[x] = in[x] + out[x - 1], with `left` the sample before x. */
static void undo_sub(const uint8_t *restrict in, uint8_t *restrict out, Py_ssize_t x,
                     Py_ssize_t w, uint8_t left) {
#if PNG_HAVE_SSE2
    for (; x + 16 <= w; x += 16) {
        __m128i r = running_sum16(_mm_loadu_si128((const __m128i *)(in + x)), left);
        _mm_storeu_si128((__m128i *)(out + x), r);
        left = out[x + 15];
    }
#endif
    for (; x < w; x++) out[x] = left = (uint8_t)(in[x] + left);
}

/* The Paeth predictor of a (left), b (above), c (above left), branch-free (which one wins is
 * data dependent): with t = 3c - a - b, it is max(a, b) when t <= min(a, b), else min(a, b)
 * when max(a, b) <= t, else c (checked against the specification's form on all 2**24 triples
 * in tests/io/test_png.py); fewer steps on the left sample's chain than the specification's. */
static inline int paeth(int a, int b, int c) {
    int t = 3 * c - a - b;
    int lo = a < b ? a : b, hi = a < b ? b : a;
    int use_lo = -(hi <= t), use_hi = -(t <= lo);
    int pred = (lo & use_lo) | (c & ~use_lo);
    return (hi & use_hi) | (pred & ~use_hi);
}

/* Paeth. Where the line above is flat (b == c), |b - c| = 0 makes a the predictor and the
 * filter is Sub: mask lines are mostly such runs, undone 16 bytes at a time. */
static void undo_paeth(const uint8_t *restrict in, const uint8_t *restrict up,
                       uint8_t *restrict out, Py_ssize_t w) {
    int left = (uint8_t)(in[0] + up[0]); /* a = c = 0: the predictor is b */
    out[0] = (uint8_t)left;
    Py_ssize_t x = 1;
#if PNG_HAVE_SSE2
    while (x + 16 <= w) {
        __m128i b = _mm_loadu_si128((const __m128i *)(up + x));
        __m128i c = _mm_loadu_si128((const __m128i *)(up + x - 1));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(b, c)) == 0xFFFF) {
            __m128i r = running_sum16(_mm_loadu_si128((const __m128i *)(in + x)), (uint8_t)left);
            _mm_storeu_si128((__m128i *)(out + x), r);
            left = out[x + 15];
            x += 16;
            continue;
        }
        for (Py_ssize_t stop = x + 16; x < stop; x++) {
            left = (uint8_t)(in[x] + paeth(left, up[x], up[x - 1]));
            out[x] = (uint8_t)left;
        }
    }
#endif
    for (; x < w; x++) {
        left = (uint8_t)(in[x] + paeth(left, up[x], up[x - 1]));
        out[x] = (uint8_t)left;
    }
}

/* One scanline; `up` is the previous reconstructed line (all zeros for the first line, as the
 * specification reads the line above the image). */
static int unfilter_line(int type, const uint8_t *restrict in, const uint8_t *restrict up,
                         uint8_t *restrict out, Py_ssize_t w) {
    Py_ssize_t x;
    switch (type) {
    case 0:
        memcpy(out, in, (size_t)w);
        return 1;
    case 1:
        undo_sub(in, out, 0, w, 0);
        return 1;
    case 2:
        for (x = 0; x < w; x++) out[x] = (uint8_t)(in[x] + up[x]);
        return 1;
    case 3: {
        unsigned left = 0;
        for (x = 0; x < w; x++) out[x] = (uint8_t)(left = (uint8_t)(in[x] + ((left + up[x]) >> 1)));
        return 1;
    }
    case 4:
        undo_paeth(in, up, out, w);
        return 1;
    default:
        return 0;
    }
}

static int unfilter(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, Py_ssize_t w,
                    Py_ssize_t h) {
    const uint8_t *up = zeros;
    for (Py_ssize_t y = 0; y < h; y++) {
        const uint8_t *line = raw + y * (w + 1);
        uint8_t *dst = out + y * w;
        if (!unfilter_line(line[0], line + 1, up, dst, w)) return 0;
        up = dst;
    }
    return 1;
}

static PyObject *py_unfilter_gray8(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *ro, *oo;
    Py_ssize_t w, h;
    if (!PyArg_ParseTuple(args, "OOnn", &ro, &oo, &w, &h)) return NULL;
    if (w <= 0 || h <= 0 || w > PY_SSIZE_T_MAX / 2 / h) {
        PyErr_SetString(PyExc_ValueError, "`width` and `height` must be positive and small enough.");
        return NULL;
    }
    Py_buffer rv, ov;
    if (PyObject_GetBuffer(ro, &rv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (PyObject_GetBuffer(oo, &ov, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&rv);
        return NULL;
    }
    if (rv.len != h * (w + 1) || ov.len != h * w) {
        PyErr_Format(PyExc_ValueError,
                     "`raw` must hold %zd bytes and `out` %zd, got %zd and %zd.", h * (w + 1),
                     h * w, rv.len, ov.len);
        PyBuffer_Release(&rv);
        PyBuffer_Release(&ov);
        return NULL;
    }
    uint8_t *zeros = calloc((size_t)w, 1);
    if (zeros == NULL) {
        PyBuffer_Release(&rv);
        PyBuffer_Release(&ov);
        return PyErr_NoMemory();
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = unfilter((const uint8_t *)rv.buf, (uint8_t *)ov.buf, zeros, w, h);
    Py_END_ALLOW_THREADS
    free(zeros);
    PyBuffer_Release(&rv);
    PyBuffer_Release(&ov);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"unfilter_gray8", py_unfilter_gray8, METH_VARARGS,
     "unfilter_gray8(raw, out, width, height) -> False when a filter type byte is above 4."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cpng", "PNG scanline filters undone (8-bit grayscale).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cpng(void) { return PyModule_Create(&module); }
