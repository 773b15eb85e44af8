/*
 * The PNG scanline filters undone for 1 byte per pixel (8-bit grayscale): one line at a time.
 * Shared by segscore/io/_cpng.c (decoding into an image) and segscore/metrics/_ckernel.c
 * (decoding two masks a few lines at a time into small buffers while counting them).
 *
 * png_unfilter_line(type, in, up, out, w) -> 1, or 0 for a filter type above 4: in holds the w
 * filtered samples of a line, up the reconstructed line above (zeros for the first line, as the
 * PNG specification, section 9, reads the line above the image), out receives the line.
 */
#ifndef SEGSCORE_PNG_UNFILTER_H
#define SEGSCORE_PNG_UNFILTER_H

#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(restrict)
#define restrict __restrict /* C99's keyword, under the name MSVC's C compiler knows */
#endif

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PNG_HAVE_SSE2 1
/* Inclusive running sums (mod 256) of 16 bytes plus the carry (its 16 bytes all equal): the
 * Sub filter undone on a block. Only the last add waits for the carry, so that blocks overlap. */
static inline __m128i png_running_sum16(__m128i v, __m128i carry) {
    v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 8));
    return _mm_add_epi8(v, carry);
}

/* The last byte of v in all 16 (the next block's carry), without a trip through memory. */
static inline __m128i png_last_byte16(__m128i v) {
    v = _mm_unpackhi_epi8(v, v);          /* bytes 8..15, each twice */
    v = _mm_shufflehi_epi16(v, 0xFF);     /* word 7 (byte 15 twice) over the high half */
    return _mm_unpackhi_epi64(v, v);      /* ... and over the whole */
}
#else
#define PNG_HAVE_SSE2 0
#endif

/* Sub from x on: out[x] = in[x] + out[x - 1], with `left` the sample before x. */
static inline void png_undo_sub(const uint8_t *restrict in, uint8_t *restrict out, Py_ssize_t x,
                     Py_ssize_t w, uint8_t left) {
#if PNG_HAVE_SSE2
    if (x + 16 <= w) {
        __m128i carry = _mm_set1_epi8((char)left);
        for (; x + 16 <= w; x += 16) {
            __m128i r = png_running_sum16(_mm_loadu_si128((const __m128i *)(in + x)), carry);
            _mm_storeu_si128((__m128i *)(out + x), r);
            carry = png_last_byte16(r);
        }
        left = out[x - 1];
    }
#endif
    for (; x < w; x++) out[x] = left = (uint8_t)(in[x] + left);
}

/* The Paeth predictor of a (left), b (above), c (above left), branch-free (which one wins is
 * data dependent): with t = 3c - a - b, it is max(a, b) when t <= min(a, b), else min(a, b)
 * when max(a, b) <= t, else c (checked against the specification's form on all 2**24 triples
 * in tests/io/test_png.py); fewer steps on the left sample's chain than the specification's. */
static inline int png_paeth(int a, int b, int c) {
    int t = 3 * c - a - b;
    int lo = a < b ? a : b, hi = a < b ? b : a;
    int use_lo = -(hi <= t), use_hi = -(t <= lo);
    int pred = (lo & use_lo) | (c & ~use_lo);
    return (hi & use_hi) | (pred & ~use_hi);
}

/* Paeth. Where the line above is flat (b == c), |b - c| = 0 makes a the predictor and the
 * filter is Sub: mask lines are mostly such runs, undone 16 bytes at a time. */
static inline void png_undo_paeth(const uint8_t *restrict in, const uint8_t *restrict up,
                       uint8_t *restrict out, Py_ssize_t w) {
    int left = (uint8_t)(in[0] + up[0]); /* a = c = 0: the predictor is b */
    out[0] = (uint8_t)left;
    Py_ssize_t x = 1;
#if PNG_HAVE_SSE2
    /* The running sum's carry stays in a register along consecutive flat blocks (through
     * `left` in memory, a store-forward stall on the chain, it cost 3x the time). */
    __m128i carry = _mm_setzero_si128();
    int in_vector = 0;
    while (x + 16 <= w) {
        __m128i b = _mm_loadu_si128((const __m128i *)(up + x));
        __m128i c = _mm_loadu_si128((const __m128i *)(up + x - 1));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(b, c)) == 0xFFFF) {
            if (!in_vector) carry = _mm_set1_epi8((char)left);
            in_vector = 1;
            __m128i r = png_running_sum16(_mm_loadu_si128((const __m128i *)(in + x)), carry);
            _mm_storeu_si128((__m128i *)(out + x), r);
            carry = png_last_byte16(r);
            x += 16;
            continue;
        }
        if (in_vector) left = out[x - 1];
        in_vector = 0;
        for (Py_ssize_t stop = x + 16; x < stop; x++) {
            int b_ = up[x], c_ = up[x - 1];
            /* mostly b == c still: one add on the chain (a branch that mask lines predict) */
            left = (uint8_t)(in[x] + (b_ == c_ ? left : png_paeth(left, b_, c_)));
            out[x] = (uint8_t)left;
        }
    }
    if (in_vector) left = out[x - 1];
#endif
    for (; x < w; x++) {
        left = (uint8_t)(in[x] + png_paeth(left, up[x], up[x - 1]));
        out[x] = (uint8_t)left;
    }
}

/* One scanline; `up` is the previous reconstructed line (all zeros for the first line, as the
 * specification reads the line above the image). */
static inline int png_unfilter_line(int type, const uint8_t *restrict in, const uint8_t *restrict up,
                         uint8_t *restrict out, Py_ssize_t w) {
    Py_ssize_t x;
    switch (type) {
    case 0:
        memcpy(out, in, (size_t)w);
        return 1;
    case 1:
        png_undo_sub(in, out, 0, w, 0);
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
        png_undo_paeth(in, up, out, w);
        return 1;
    default:
        return 0;
    }
}

#endif
