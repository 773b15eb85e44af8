/*
 * segscore.metrics._ckernel: fused, exact counting passes over segmentation masks.
 *
 * Plain C99 + CPython buffer protocol (no numpy headers). Every function takes C-contiguous
 * buffers of shape (rows, cols), validated and shaped by segscore.metrics._kernel, writes exact
 * int64 counts into a caller-allocated output buffer, and releases the GIL while counting. The
 * work is split over POSIX threads when there is enough of it.
 *
 * binary_counts(pred, target, rows, cols, out, nthreads)
 *     1-byte masks (bool, uint8, int8): out[0] = tp, out[1] = predicted, out[2] = support per row,
 *     nonzero meaning foreground. Byte-lane accumulators (at most 255 additions per lane between
 *     flushes) let the compiler vectorise the pass.
 * binary_counts(pred, target, rows, cols, out, nthreads, True) -> (pred_code, target_code)
 *     The same pass also checks the byte values of uint8 masks: code 0 when every byte is 0 or 1,
 *     1 when every byte is 0 or 255, 2 otherwise (the caller words the error).
 *
 * nearest_offsets(grid, sources, offsets, out, nthreads)
 *     Boundary metrics: for each source index, the first of the offsets (sorted by length) that
 *     lands on a nonzero byte of the padded grid, or -1 (resolved by a KD-tree upstream).
 *
 * confusion_matrix(pred, target, rows, cols, ptype, ttype, C, ignore, has_ignore, out,
 *                  nthreads, chunk) -> number of pixels with an invalid target or
 *                  prediction label (the caller words the error)
 *     out is int64 (rows, C, C + 1), zero on entry: out[n, t, p]. A target pixel of the ignore
 *     label is dropped; the ignore label predicted counts in column C ("no class"); any other
 *     label outside [0, C) is invalid. The pixels (not the rows) are split over the threads.
 *     For C <= 254 (the usual case), each label maps without branches to an index (the class,
 *     C for the ignore label, C + 1 if invalid) and each pixel to a uint16 key
 *     index(t) * (C + 2) + index(p), made 64 pixels at a time (SSE2 on 1-byte labels). Keys are
 *     counted into 8 (C <= 30) or 4 separate uint32 histograms (see the histogram path), flushed
 *     into the int64 row at every row end and at least every `chunk` (< 2**32) pixels, so counts
 *     are exact at any size. A 64-pixel block of one (target, prediction) pair is counted with
 *     one addition. The cost per pixel is thus about the same on smooth, blocky or random maps.
 *     Rows too short to pay for a flush of the histograms, and C > 254, are counted straight
 *     into the int64 row. A block of 64 pixels with at most RUN_MAX (target, prediction) changes
 *     is counted run by run (smooth maps); on noisy maps that look backs off.
 *
 * overlap_tables(pred, target, rows, cols, ptype, ttype, ignore, has_ignore, out, nthreads)
 *     Instance label maps: the exact overlap table of each image (every (prediction, target) id
 *     pair and its pixels, the objects' areas), one pass per image, images over the threads;
 *     see "Overlap pairs of instance label maps" below.
 *
 * class_counts(pred, target, rows, cols, ptype, ttype, C, ignore, has_ignore, out,
 *              nthreads, chunk) -> positive when a label is invalid
 *     The same pass, but out is int64 (rows, 3, C): tp, predicted (over the pixels whose target
 *     is not ignored) and support (the ignore label predicted included) per class, the diagonal
 *     and margins of the matrix above, without it. Up to 30 classes through the same (C + 2)**2
 *     key histograms; above, two keys per pixel into 4 (C + 2) bins (see the per-class path).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <pthread.h>
#include <unistd.h>
#define SEG_HAVE_THREADS 1
#else
#define SEG_HAVE_THREADS 0
#endif

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define SEG_HAVE_SSE2 1
#else
#define SEG_HAVE_SSE2 0
#endif

#include "../io/_png_unfilter.h"

#define MAX_THREADS 64
#define N_SUB 4
#define BLOCK 64
/* Byte lanes of the binary pass: one 16-byte vector per accumulator, so that its seven
 * accumulators stay in registers (with 64 they spilled to the stack at every step). */
#define BIN_LANES 16
#define TILE 512
#define KEY_MAX_CLASSES 254 /* (C + 2)**2 keys fit uint16 */

/* Label dtype codes shared with _kernel.py. */
enum { T_I8 = 0, T_U8, T_I16, T_U16, T_I32, T_U32, T_I64, N_TYPES };
static const int type_size[N_TYPES] = {1, 1, 2, 2, 4, 4, 8};

/* ------------------------------------------------------------------------------------------- */
/* Threads                                                                                      */
/* ------------------------------------------------------------------------------------------- */

typedef void (*task_fn)(void *task);

#if SEG_HAVE_THREADS
static void *thread_main(void *arg) {
    void **pair = (void **)arg;
    ((task_fn)pair[0])(pair[1]);
    return NULL;
}
#endif

/* Run fn on tasks[0..n) (each `size` bytes), in threads where possible; tasks[0] runs here. */
static void run_tasks(task_fn fn, char *tasks, size_t size, int n) {
#if SEG_HAVE_THREADS
    pthread_t ids[MAX_THREADS];
    void *args[MAX_THREADS][2];
    int started[MAX_THREADS];
    for (int i = 1; i < n; i++) {
        args[i][0] = (void *)fn;
        args[i][1] = tasks + (size_t)i * size;
        started[i] = pthread_create(&ids[i], NULL, thread_main, args[i]) == 0;
        if (!started[i]) fn(tasks + (size_t)i * size);
    }
    fn(tasks);
    for (int i = 1; i < n; i++)
        if (started[i]) pthread_join(ids[i], NULL);
#else
    for (int i = 0; i < n; i++) fn(tasks + (size_t)i * size);
#endif
}

static int clamp_threads(long requested, Py_ssize_t rows) {
    long n = requested < 1 ? 1 : requested;
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (n > rows) n = (long)rows;
    return n < 1 ? 1 : (int)n;
}

/* ------------------------------------------------------------------------------------------- */
/* Binary masks                                                                                 */
/* ------------------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *t;
    Py_ssize_t row0, row1, cols, rows;
    int64_t *out;
    int check;
    uint64_t vals[4]; /* with check: the OR-ed value-check bits of pred (2) and target (2) */
} bin_task;

/* No AVX2 clone (GCC target_clones) of this pass: measured in `segscore evaluate`, it halved the
 * kernel's time but slowed the PNG decoding that follows each call by more than it saved (the
 * core runs 256-bit code at a lower clock for a while), so the baseline SSE2 build is faster
 * end to end. */
/* Count tp, predicted and support of n bytes (nonzero = foreground), in BLOCK byte lanes. */
static inline void binary_row_plain(const uint8_t *p, const uint8_t *t, Py_ssize_t n,
                                    int64_t res[3]) {
    uint64_t tp = 0, np_ = 0, nt = 0;
    Py_ssize_t i = 0;
    while (n - i >= BLOCK) {
        uint8_t a_tp[BLOCK], a_p[BLOCK], a_t[BLOCK];
        memset(a_tp, 0, BLOCK);
        memset(a_p, 0, BLOCK);
        memset(a_t, 0, BLOCK);
        Py_ssize_t blocks = (n - i) / BLOCK;
        if (blocks > 255) blocks = 255; /* byte lanes hold at most 255 */
        for (Py_ssize_t b = 0; b < blocks; b++, i += BLOCK) {
            const uint8_t *pp = p + i, *tt = t + i;
            for (int k = 0; k < BLOCK; k++) {
                uint8_t x = (uint8_t)(pp[k] != 0), y = (uint8_t)(tt[k] != 0);
                a_p[k] = (uint8_t)(a_p[k] + x);
                a_t[k] = (uint8_t)(a_t[k] + y);
                a_tp[k] = (uint8_t)(a_tp[k] + (x & y));
            }
        }
        uint32_t s_tp = 0, s_p = 0, s_t = 0;
        for (int k = 0; k < BLOCK; k++) {
            s_tp += a_tp[k];
            s_p += a_p[k];
            s_t += a_t[k];
        }
        tp += s_tp;
        np_ += s_p;
        nt += s_t;
    }
    for (; i < n; i++) {
        int x = p[i] != 0, y = t[i] != 0;
        np_ += (uint64_t)x;
        nt += (uint64_t)y;
        tp += (uint64_t)(x & y);
    }
    res[0] = (int64_t)tp;
    res[1] = (int64_t)np_;
    res[2] = (int64_t)nt;
}

/* binary_row_plain's counts, and a check of the byte values of both inputs: with x = min(b, 1),
 * the OR of all bytes b has no bit above the lowest exactly when every b is in {0, 1}, and the OR
 * of all (uint8_t)(b + x) is zero exactly when every b is in {0, 255} (0 + 0 and 255 + 1 wrap to
 * 0; 1..254 give 2..255); they are reduced into vals ([0], [1] for pred; [2], [3] for target),
 * zero exactly when the values pass. One unsigned minimum, one add and one OR per input (SSE2
 * pminub/paddb/por) in BIN_LANES-wide lanes, so that the seven accumulators stay in registers:
 * 37% fewer instructions than comparing and xor-ing in 64-byte lanes, 18-38% less time on
 * 512x512 masks (callgrind and timing, docs/benchmarks.md). */
static inline void binary_row_checked(const uint8_t *p, const uint8_t *t, Py_ssize_t n,
                                      int64_t res[3], uint64_t vals[4]) {
    uint64_t tp = 0, np_ = 0, nt = 0;
    uint8_t op[BIN_LANES], mp[BIN_LANES], ot[BIN_LANES], mt[BIN_LANES];
    memset(op, 0, BIN_LANES);
    memset(mp, 0, BIN_LANES);
    memset(ot, 0, BIN_LANES);
    memset(mt, 0, BIN_LANES);
    Py_ssize_t i = 0;
    while (n - i >= BIN_LANES) {
        uint8_t a_tp[BIN_LANES], a_p[BIN_LANES], a_t[BIN_LANES];
        memset(a_tp, 0, BIN_LANES);
        memset(a_p, 0, BIN_LANES);
        memset(a_t, 0, BIN_LANES);
        Py_ssize_t blocks = (n - i) / BIN_LANES;
        if (blocks > 255) blocks = 255; /* byte lanes hold at most 255 */
        for (Py_ssize_t b = 0; b < blocks; b++, i += BIN_LANES) {
            const uint8_t *pp = p + i, *tt = t + i;
            for (int k = 0; k < BIN_LANES; k++) {
                uint8_t a = pp[k], c = tt[k];
                uint8_t x = a < 1 ? a : 1, y = c < 1 ? c : 1;
                a_p[k] = (uint8_t)(a_p[k] + x);
                a_t[k] = (uint8_t)(a_t[k] + y);
                a_tp[k] = (uint8_t)(a_tp[k] + (x & y));
                op[k] |= a;
                mp[k] |= (uint8_t)(a + x);
                ot[k] |= c;
                mt[k] |= (uint8_t)(c + y);
            }
        }
        uint32_t s_tp = 0, s_p = 0, s_t = 0;
        for (int k = 0; k < BIN_LANES; k++) {
            s_tp += a_tp[k];
            s_p += a_p[k];
            s_t += a_t[k];
        }
        tp += s_tp;
        np_ += s_p;
        nt += s_t;
    }
    for (; i < n; i++) {
        int x = p[i] != 0, y = t[i] != 0;
        np_ += (uint64_t)x;
        nt += (uint64_t)y;
        tp += (uint64_t)(x & y);
        vals[0] |= (uint8_t)(p[i] & 0xfe);
        vals[1] |= (uint8_t)(p[i] + x);
        vals[2] |= (uint8_t)(t[i] & 0xfe);
        vals[3] |= (uint8_t)(t[i] + y);
    }
    for (int k = 0; k < BIN_LANES; k++) {
        vals[0] |= (uint8_t)(op[k] & 0xfe);
        vals[1] |= mp[k];
        vals[2] |= (uint8_t)(ot[k] & 0xfe);
        vals[3] |= mt[k];
    }
    res[0] = (int64_t)tp;
    res[1] = (int64_t)np_;
    res[2] = (int64_t)nt;
}

static void binary_task(void *arg) {
    bin_task *task = (bin_task *)arg;
    for (Py_ssize_t r = task->row0; r < task->row1; r++) {
        int64_t res[3];
        const uint8_t *p = task->p + r * task->cols, *t = task->t + r * task->cols;
        if (task->check)
            binary_row_checked(p, t, task->cols, res, task->vals);
        else
            binary_row_plain(p, t, task->cols, res);
        task->out[r] = res[0];
        task->out[task->rows + r] = res[1];
        task->out[2 * task->rows + r] = res[2];
    }
}

/* From the two reductions of binary_row_checked (zero when every byte is in {0, 1}, zero when every byte
 * is in {0, 255}): 0 when every byte is 0 or 1, 1 when every byte is 0 or 255, 2 otherwise. */
static long value_code(uint64_t not01, uint64_t not0ff) {
    return not01 == 0 ? 0 : (not0ff == 0 ? 1 : 2);
}

/* ------------------------------------------------------------------------------------------- */
/* Buffers                                                                                      */
/* ------------------------------------------------------------------------------------------- */

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t nbytes,
                      const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    if (view->len != nbytes) {
        PyErr_Format(PyExc_ValueError, "`%s` must hold %zd bytes, got %zd.", name, nbytes,
                     view->len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int check_shape(Py_ssize_t rows, Py_ssize_t cols) {
    if (rows < 0 || cols < 0 || (cols > 0 && rows > PY_SSIZE_T_MAX / cols / 8)) {
        PyErr_SetString(PyExc_ValueError, "`rows` and `cols` must be non-negative and small enough.");
        return -1;
    }
    return 0;
}

/* Two 8-bit grayscale PNG masks from their inflated scanlines (segscore.io.png), unfiltered a
 * few lines at a time into small buffers (a tile of about 4 KiB per mask, two tiles each so that
 * the line above a tile's first line is kept) and counted there as binary_counts(..., check)
 * counts the decoded images: the images are never written out whole, nor read again. 0 when a
 * filter type byte is above 4 (the caller's PNG decoder then words the error). */
static int png_binary_pass(const uint8_t *rp, const uint8_t *rt, Py_ssize_t w, Py_ssize_t h,
                           Py_ssize_t tile, uint8_t *lines, int64_t res[3], uint64_t vals[4]) {
    const uint8_t *zeros = lines; /* w zero bytes: the line above the image */
    uint8_t *tp_[2] = {lines + w, lines + w + tile * w};
    uint8_t *tt_[2] = {lines + w + 2 * tile * w, lines + w + 3 * tile * w};
    const uint8_t *up_p = zeros, *up_t = zeros;
    res[0] = res[1] = res[2] = 0;
    for (Py_ssize_t y0 = 0, k = 0; y0 < h; y0 += tile, k ^= 1) {
        Py_ssize_t n = h - y0 < tile ? h - y0 : tile;
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint8_t *lp = rp + (y0 + i) * (w + 1), *lt = rt + (y0 + i) * (w + 1);
            uint8_t *cp = tp_[k] + i * w, *ct = tt_[k] + i * w;
            if (!png_unfilter_line(lp[0], lp + 1, up_p, cp, w)) return 0;
            if (!png_unfilter_line(lt[0], lt + 1, up_t, ct, w)) return 0;
            up_p = cp;
            up_t = ct;
        }
        int64_t part[3];
        binary_row_checked(tp_[k], tt_[k], n * w, part, vals);
        res[0] += part[0];
        res[1] += part[1];
        res[2] += part[2];
    }
    return 1;
}

static PyObject *py_png_binary_counts(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *po, *to, *oo;
    Py_ssize_t w, h;
    if (!PyArg_ParseTuple(args, "OOnnO", &po, &to, &w, &h, &oo)) return NULL;
    if (w <= 0 || h <= 0 || w > PY_SSIZE_T_MAX / 8 / h) {
        PyErr_SetString(PyExc_ValueError, "`width` and `height` must be positive and small enough.");
        return NULL;
    }
    Py_buffer pv, tv, ov;
    if (get_buffer(po, &pv, 0, h * (w + 1), "pred") < 0) return NULL;
    if (get_buffer(to, &tv, 0, h * (w + 1), "target") < 0) {
        PyBuffer_Release(&pv);
        return NULL;
    }
    if (get_buffer(oo, &ov, 1, 3 * (Py_ssize_t)sizeof(int64_t), "out") < 0) {
        PyBuffer_Release(&pv);
        PyBuffer_Release(&tv);
        return NULL;
    }
    Py_ssize_t tile = w >= 4096 ? 1 : 4096 / w;
    uint8_t *lines = calloc((size_t)w, (size_t)(1 + 4 * tile)); /* zeros, then the tiles */
    int ok = 0;
    uint64_t vals[4] = {0, 0, 0, 0};
    if (lines != NULL) {
        Py_BEGIN_ALLOW_THREADS
        ok = png_binary_pass((const uint8_t *)pv.buf, (const uint8_t *)tv.buf, w, h, tile, lines,
                             (int64_t *)ov.buf, vals);
        Py_END_ALLOW_THREADS
        free(lines);
    }
    PyBuffer_Release(&pv);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    if (lines == NULL) return PyErr_NoMemory();
    if (!ok) Py_RETURN_NONE;
    return Py_BuildValue("(ll)", value_code(vals[0], vals[1]), value_code(vals[2], vals[3]));
}

static PyObject *py_binary_counts(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *po, *to, *oo;
    Py_ssize_t rows, cols;
    long nthreads;
    int check = 0;
    if (!PyArg_ParseTuple(args, "OOnnOl|p", &po, &to, &rows, &cols, &oo, &nthreads, &check))
        return NULL;
    if (check_shape(rows, cols) < 0) return NULL;
    Py_buffer pv, tv, ov;
    if (get_buffer(po, &pv, 0, rows * cols, "pred") < 0) return NULL;
    if (get_buffer(to, &tv, 0, rows * cols, "target") < 0) {
        PyBuffer_Release(&pv);
        return NULL;
    }
    if (get_buffer(oo, &ov, 1, 3 * rows * (Py_ssize_t)sizeof(int64_t), "out") < 0) {
        PyBuffer_Release(&pv);
        PyBuffer_Release(&tv);
        return NULL;
    }
    int n = clamp_threads(nthreads, rows);
    bin_task tasks[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        tasks[i].p = (const uint8_t *)pv.buf;
        tasks[i].t = (const uint8_t *)tv.buf;
        tasks[i].row0 = rows * i / n;
        tasks[i].row1 = rows * (i + 1) / n;
        tasks[i].cols = cols;
        tasks[i].rows = rows;
        tasks[i].out = (int64_t *)ov.buf;
        tasks[i].check = check;
        memset(tasks[i].vals, 0, sizeof tasks[i].vals);
    }
    Py_BEGIN_ALLOW_THREADS
    run_tasks(binary_task, (char *)tasks, sizeof(bin_task), n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&pv);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    if (!check) Py_RETURN_NONE;
    uint64_t v[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) v[k] |= tasks[i].vals[k];
    return Py_BuildValue("(ll)", value_code(v[0], v[1]), value_code(v[2], v[3]));
}

/* ------------------------------------------------------------------------------------------- */
/* Label maps                                                                                   */
/* ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *p, *t;
    Py_ssize_t g0, g1;    /* pixels [g0, g1) of the flattened (rows, cols) buffers */
    Py_ssize_t cols;
    int ptype, ttype;
    int64_t c;            /* number of classes */
    int64_t ignore;       /* target label to drop, if has_ignore */
    int has_ignore;
    const int32_t *tlut;  /* direct path, 1-byte labels: byte -> target key base */
    const int32_t *plut;  /* direct path, 1-byte labels: byte -> prediction bin */
    const uint16_t *tl16; /* histogram path, 1-byte labels: byte -> label_index * (C + 2) */
    const uint16_t *pl16; /* histogram path, 1-byte labels: byte -> label_index */
    const uint16_t *tx16; /* per-class path, 1-byte labels: byte -> target label_index */
    int per_class;        /* out is (rows, 3, C) tp, predicted, support, not the matrix */
    int64_t *out;         /* (rows, C, C + 1) */
    uint64_t chunk;       /* pixels per flush of the uint32 histograms */
    int64_t *first;       /* result: counts of a first row shared with the previous task */
    Py_ssize_t first_row; /* its row, when `first` is not NULL */
    int64_t invalid;      /* result: pixels with an invalid target or prediction label */
    int failed;           /* result: allocation failure */
} mc_task;

/* --- Direct path (short rows, C > KEY_MAX_CLASSES): keys t * (C + 1) + p into the int64 row. */

/* Key base (t * (C + 1), or a drop / invalid row) of one target label. */
static inline int32_t target_base(int64_t v, const mc_task *k) {
    int64_t c1 = k->c + 1;
    if (v >= 0 && v < k->c) return (int32_t)(v * c1);
    if (k->has_ignore && v == k->ignore) return (int32_t)(k->c * c1);
    return (int32_t)(c1 * c1);
}

/* Prediction bin: the class, C for the ignore label ("no class"), or an offset that lands every
 * key of an invalid prediction label past the counted bins (K = 2 (C + 2)(C + 1) bins). */
static inline int32_t pred_bin(int64_t v, const mc_task *k) {
    if (v >= 0 && v < k->c) return (int32_t)v;
    if (k->has_ignore && v == k->ignore) return (int32_t)k->c;
    return (int32_t)((k->c + 2) * (k->c + 1));
}

/* keys[i] = target_base(t[i]) + pred_bin(p[i]) for a tile of n pixels starting at pixel i0. */
#define DEFINE_KEYS(NAME, TYPE)                                                            \
    static void tkeys_##NAME(const char *buf, Py_ssize_t i0, int n, const mc_task *k,      \
                             int32_t *keys) {                                              \
        const TYPE *x = (const TYPE *)buf + i0;                                            \
        for (int i = 0; i < n; i++) keys[i] = target_base((int64_t)x[i], k);               \
    }                                                                                      \
    static void pkeys_##NAME(const char *buf, Py_ssize_t i0, int n, const mc_task *k,      \
                             int32_t *keys) {                                              \
        const TYPE *x = (const TYPE *)buf + i0;                                            \
        for (int i = 0; i < n; i++) keys[i] += pred_bin((int64_t)x[i], k);                 \
    }
DEFINE_KEYS(i8, int8_t)
DEFINE_KEYS(u8, uint8_t)
DEFINE_KEYS(i16, int16_t)
DEFINE_KEYS(u16, uint16_t)
DEFINE_KEYS(i32, int32_t)
DEFINE_KEYS(u32, uint32_t)
DEFINE_KEYS(i64, int64_t)

typedef void (*keys_fn)(const char *, Py_ssize_t, int, const mc_task *, int32_t *);
static const keys_fn tkeys[N_TYPES] = {tkeys_i8,  tkeys_u8,  tkeys_i16, tkeys_u16,
                                       tkeys_i32, tkeys_u32, tkeys_i64};
static const keys_fn pkeys[N_TYPES] = {pkeys_i8,  pkeys_u8,  pkeys_i16, pkeys_u16,
                                       pkeys_i32, pkeys_u32, pkeys_i64};

/* Count pixels [g, g + n) straight into the int64 output row; returns the invalid count. */
static int64_t count_direct(const mc_task *k, Py_ssize_t g, Py_ssize_t n, int64_t *out) {
    size_t counted = (size_t)(k->c * (k->c + 1)), invalid0 = (size_t)((k->c + 1) * (k->c + 1));
    int64_t invalid = 0;
    int32_t keys[TILE];
    for (Py_ssize_t i = 0; i < n; i += TILE) {
        int m = (int)((n - i) < TILE ? (n - i) : TILE);
        if (k->tlut != NULL) {
            const uint8_t *p = (const uint8_t *)k->p + g + i, *t = (const uint8_t *)k->t + g + i;
            for (int j = 0; j < m; j++) keys[j] = k->tlut[t[j]] + k->plut[p[j]];
        } else {
            tkeys[k->ttype](k->t, g + i, m, k, keys);
            pkeys[k->ptype](k->p, g + i, m, k, keys);
        }
        for (int j = 0; j < m; j++) {
            size_t key = (size_t)keys[j];
            if (key < counted)
                out[key]++;
            else if (key >= invalid0)
                invalid++;
        }
    }
    return invalid;
}

/* --- Histogram path (C <= KEY_MAX_CLASSES): uint16 keys into private uint32 histograms.
 *
 * A label's index along one axis of the key grid is its class, C for the ignore label and C + 1
 * for any other label, computed without branches; a pixel's key is
 * index(t) * (C + 2) + index(p) < (C + 2)**2 <= 2**16. Keys are made 64 pixels at a time (SSE2 on
 * 1-byte labels), then counted into NS separate uint32 histograms h[s * K + key], pixel q of a
 * block into copy q % NS, so that a run of one key updates NS different counters in turn instead
 * of waiting on its own previous store. (Copies interleaved per bin, h[key * NS + s], use fewer
 * cache lines but were measured 2x slower on such runs.) A block of 64 pixels with one
 * (target, prediction) pair is counted with one addition: a mispredicted block test costs far
 * less than the 64 pixels it decides. */

static inline uint32_t label_index(int64_t v, int64_t c, int has_ignore, int64_t ignore) {
    uint32_t other = (uint32_t)c + 1u - (uint32_t)(has_ignore & (v == ignore));
    return (uint64_t)v < (uint64_t)c ? (uint32_t)v : other;
}

#define DEFINE_KEYS16(NAME, TYPE)                                                             \
    static void tkeys16_##NAME(const char *buf, Py_ssize_t i0, int n, const mc_task *k,       \
                               uint16_t *keys) {                                              \
        const TYPE *x = (const TYPE *)buf + i0;                                               \
        const int64_t c = k->c, ignore = k->ignore;                                           \
        const int has_ignore = k->has_ignore;                                                 \
        const uint32_t w = (uint32_t)c + 2u;                                                  \
        for (int i = 0; i < n; i++)                                                           \
            keys[i] = (uint16_t)(label_index((int64_t)x[i], c, has_ignore, ignore) * w);      \
    }                                                                                         \
    static void pkeys16_##NAME(const char *buf, Py_ssize_t i0, int n, const mc_task *k,       \
                               uint16_t *keys) {                                              \
        const TYPE *x = (const TYPE *)buf + i0;                                               \
        const int64_t c = k->c, ignore = k->ignore;                                           \
        const int has_ignore = k->has_ignore;                                                 \
        for (int i = 0; i < n; i++)                                                           \
            keys[i] = (uint16_t)(keys[i] + label_index((int64_t)x[i], c, has_ignore, ignore)); \
    }
DEFINE_KEYS16(i8, int8_t)
DEFINE_KEYS16(u8, uint8_t)
DEFINE_KEYS16(i16, int16_t)
DEFINE_KEYS16(u16, uint16_t)
DEFINE_KEYS16(i32, int32_t)
DEFINE_KEYS16(u32, uint32_t)
DEFINE_KEYS16(i64, int64_t)

typedef void (*keys16_fn)(const char *, Py_ssize_t, int, const mc_task *, uint16_t *);
static const keys16_fn tkeys16[N_TYPES] = {tkeys16_i8,  tkeys16_u8,  tkeys16_i16, tkeys16_u16,
                                           tkeys16_i32, tkeys16_u32, tkeys16_i64};
static const keys16_fn pkeys16[N_TYPES] = {pkeys16_i8,  pkeys16_u8,  pkeys16_i16, pkeys16_u16,
                                           pkeys16_i32, pkeys16_u32, pkeys16_i64};

#if SEG_HAVE_SSE2
/* One axis of 1-byte labels for the SSE2 key maker: a byte is a class when byte <= lim1 (C - 1,
 * or 127 for int8 labels), the ignore label when it equals `ign` and `ign_on` is all ones. */
typedef struct {
    __m128i lim1, ign, ign_on;
} byte_axis;

static inline __m128i byte_index(__m128i x, const byte_axis *a, __m128i c1) {
    __m128i is_class = _mm_cmpeq_epi8(_mm_min_epu8(x, a->lim1), x);
    __m128i is_ignore = _mm_and_si128(_mm_cmpeq_epi8(x, a->ign), a->ign_on);
    __m128i other = _mm_add_epi8(c1, is_ignore); /* C + 1, or C for the ignore label (-1) */
    return _mm_or_si128(_mm_and_si128(is_class, x), _mm_andnot_si128(is_class, other));
}
#endif

typedef struct {
    const uint16_t *tl16, *pl16, *tx16;
    uint16_t w; /* C + 2 */
#if SEG_HAVE_SSE2
    byte_axis ta, pa;
    __m128i c1, width;
    __m128i cls, one, base; /* per-class keys: C (bytes), 1 (bytes), 2 (C + 2) (16-bit) */
#endif
} byte_keys;

/* keys[0..BLOCK) of BLOCK pixels of 1-byte labels. */
static inline void make_byte_keys(const uint8_t *t, const uint8_t *p, const byte_keys *bk,
                                  uint16_t *keys) {
#if SEG_HAVE_SSE2
    const __m128i z = _mm_setzero_si128();
    for (int q = 0; q < BLOCK; q += 16) {
        __m128i ti = byte_index(_mm_loadu_si128((const __m128i *)(t + q)), &bk->ta, bk->c1);
        __m128i pi = byte_index(_mm_loadu_si128((const __m128i *)(p + q)), &bk->pa, bk->c1);
        __m128i lo = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(ti, z), bk->width),
                                   _mm_unpacklo_epi8(pi, z));
        __m128i hi = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(ti, z), bk->width),
                                   _mm_unpackhi_epi8(pi, z));
        _mm_storeu_si128((__m128i *)(keys + q), lo);
        _mm_storeu_si128((__m128i *)(keys + q + 8), hi);
    }
#else
    for (int q = 0; q < BLOCK; q++) keys[q] = (uint16_t)(bk->tl16[t[q]] + bk->pl16[p[q]]);
#endif
}

/* Count one block of BLOCK keys into NS histograms h[s * K + key], pixel q into copy q % NS. */
#define ADD_BLOCK(h, K, keys, NS)                                                        \
    do {                                                                                 \
        for (int q_ = 0; q_ < BLOCK; q_ += (NS))                                         \
            for (int s_ = 0; s_ < (NS); s_++) (h)[(size_t)s_ * (K) + (keys)[q_ + s_]]++; \
    } while (0)

/* Runs inside a block. Smooth maps have few (target, prediction) changes per block of 64 pixels
 * even where a block is not uniform (an object's edge crosses it): such a block is counted run by
 * run, one addition per run, which also spares the chain of additions to one counter that a run
 * of equal keys makes. Blocks with more than RUN_MAX changes (noisy maps) are counted pixel by
 * pixel. */
#ifndef RUN_SKIP
#define RUN_SKIP 31
#endif
#ifndef RUN_MAX
#define RUN_MAX 12
#endif
#if SEG_HAVE_SSE2 && defined(__GNUC__)
#define SEG_BLOCK_RUNS 1
#define BLOCK_CTZ(x) __builtin_ctzll(x)
#define SEG_NOINLINE __attribute__((noinline))
/* Bit q (1 <= q < BLOCK) set where pixel q differs from pixel q - 1 in t or p. */
static inline uint64_t block_changes(const uint8_t *t, const uint8_t *p) {
    uint64_t same = 0;
    static const int at[4] = {0, 16, 32, 47}; /* the last compare overlaps, to stay in the block */
    for (int v = 0; v < 4; v++) {
        __m128i t0 = _mm_loadu_si128((const __m128i *)(t + at[v]));
        __m128i t1 = _mm_loadu_si128((const __m128i *)(t + at[v] + 1));
        __m128i p0 = _mm_loadu_si128((const __m128i *)(p + at[v]));
        __m128i p1 = _mm_loadu_si128((const __m128i *)(p + at[v] + 1));
        __m128i e = _mm_and_si128(_mm_cmpeq_epi8(t0, t1), _mm_cmpeq_epi8(p0, p1));
        same |= (uint64_t)(unsigned)_mm_movemask_epi8(e) << (at[v] + 1);
    }
    return ~same & ~(uint64_t)1;
}
/* Whether a set of changes has at most RUN_MAX bits (a branch-free bit count: a loop that
 * stops at the count would mispredict its exit on every block). */
static inline int few_changes(uint64_t ch) {
    ch = ch - ((ch >> 1) & 0x5555555555555555ULL);
    ch = (ch & 0x3333333333333333ULL) + ((ch >> 2) & 0x3333333333333333ULL);
    ch = (ch + (ch >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((ch * 0x0101010101010101ULL) >> 56) <= RUN_MAX;
}
/* Whether to count a block run by run (its changes in *ch). After a block with many changes the
 * next blocks are counted pixel by pixel without looking, 1, 3, 7... up to RUN_SKIP of them after
 * each further such block in a row: on noisy maps the look costs more than it finds, and one
 * noisy block among smooth ones costs one block counted pixel by pixel. skip[0] is the number of
 * blocks to count so (by a function of their own, which keeps the loop of smooth maps lean), skip[1]
 * the next back-off. */
static inline int run_check(const uint8_t *t, const uint8_t *p, unsigned skip[2], uint64_t *ch) {
    *ch = block_changes(t, p);
    if (few_changes(*ch)) {
        skip[1] = 1;
        return 1;
    }
    skip[0] = skip[1];
    skip[1] = skip[1] >= RUN_SKIP ? RUN_SKIP : 2 * skip[1] + 1;
    return 0;
}
#else /* blocks are counted pixel by pixel, or at once when uniform */
#define SEG_BLOCK_RUNS 0
#define BLOCK_CTZ(x) 0
#define SEG_NOINLINE
static inline int run_check(const uint8_t *t, const uint8_t *p, unsigned skip[2], uint64_t *ch) {
    (void)t;
    (void)p;
    (void)skip;
    *ch = 0;
    return 0;
}
#endif

/* Count n pixels of 1-byte labels (t, p) into NS histograms of K bins. */
#define DEFINE_COUNT_BYTES(NS)                                                               \
    static SEG_NOINLINE void pixel_blocks_##NS(const uint8_t *t, const uint8_t *p, Py_ssize_t nb,\
                                               const byte_keys *bk, uint32_t *h, size_t K) { \
        uint16_t keys[BLOCK];                                                                \
        for (Py_ssize_t b = 0; b < nb; b++, t += BLOCK, p += BLOCK) {                        \
            make_byte_keys(t, p, bk, keys);                                                  \
            ADD_BLOCK(h, K, keys, NS);                                                       \
        }                                                                                    \
    }                                                                                        \
    static void count_bytes_##NS(const uint8_t *t, const uint8_t *p, Py_ssize_t n,          \
                                 const byte_keys *bk, uint32_t *h, size_t K) {             \
        uint16_t keys[BLOCK];                                                                \
        Py_ssize_t i = 0;                                                                    \
        unsigned blk = 0, skip[2] = {0, 1};                                                  \
        for (; n - i >= BLOCK; i += BLOCK, blk++) {                                          \
            if (SEG_BLOCK_RUNS && skip[0]) { /* a noisy stretch: no look for runs */         \
                Py_ssize_t nb = (n - i) / BLOCK;                                             \
                if (nb > (Py_ssize_t)skip[0]) nb = (Py_ssize_t)skip[0];                      \
                skip[0] = 0;                                                                 \
                pixel_blocks_##NS(t + i, p + i, nb, bk, h, K);                               \
                i += (nb - 1) * BLOCK;                                                       \
                continue;                                                                    \
            }                                                                                \
            const uint8_t *tt = t + i, *pp = p + i;                                          \
            if (SEG_BLOCK_RUNS) {                                                            \
                uint64_t ch;                                                                 \
                if (run_check(tt, pp, skip, &ch)) {                                          \
                    int q0 = 0;                                                              \
                    for (;;) {                                                               \
                        int q1 = ch ? BLOCK_CTZ(ch) : BLOCK;                                 \
                        const uint32_t len = (uint32_t)(q1 - q0);                            \
                        size_t key = (size_t)(bk->tl16[tt[q0]] + bk->pl16[pp[q0]]);          \
                        h[(size_t)(blk++ % (NS)) * K + key] += len;                          \
                        if (q1 == BLOCK) break;                                              \
                        ch &= ch - 1;                                                        \
                        q0 = q1;                                                             \
                    }                                                                        \
                    continue;                                                                \
                }                                                                            \
            } else {                                                                         \
                uint8_t a = tt[0], b = pp[0], d = 0;                                         \
                for (int j = 0; j < BLOCK; j++) d |= (uint8_t)((tt[j] ^ a) | (pp[j] ^ b));   \
                if (d == 0) {                                                                \
                    size_t key = (size_t)(bk->tl16[a] + bk->pl16[b]);                        \
                    h[(size_t)(blk % (NS)) * K + key] += BLOCK;                              \
                    continue;                                                                \
                }                                                                            \
            }                                                                                \
            make_byte_keys(tt, pp, bk, keys);                                                \
            ADD_BLOCK(h, K, keys, NS);                                                       \
        }                                                                                    \
        for (; i < n; i++) h[bk->tl16[t[i]] + bk->pl16[p[i]]]++;                             \
    }
DEFINE_COUNT_BYTES(4)
DEFINE_COUNT_BYTES(8)

/* Count n keys into NS histograms of K bins. */
#define DEFINE_COUNT_KEYS(NS)                                                                \
    static void count_keys_##NS(const uint16_t *keys, int n, uint32_t *h, size_t K) {       \
        int j = 0;                                                                           \
        for (; n - j >= BLOCK; j += BLOCK) {                                                 \
            uint16_t a = keys[j], d = 0;                                                     \
            for (int q = 0; q < BLOCK; q++) d |= (uint16_t)(keys[j + q] ^ a);                \
            if (d == 0) {                                                                    \
                h[(size_t)((j / BLOCK) % (NS)) * K + a] += BLOCK;                            \
                continue;                                                                    \
            }                                                                                \
            ADD_BLOCK(h, K, keys + j, NS);                                                   \
        }                                                                                    \
        for (; j < n; j++) h[keys[j]]++;                                                     \
    }
DEFINE_COUNT_KEYS(4)
DEFINE_COUNT_KEYS(8)

/* Count pixels [g, g + n) of any label dtypes into NS histograms of K bins. */
static void count_generic(const mc_task *k, Py_ssize_t g, Py_ssize_t n, uint32_t *h, size_t K,
                          int ns) {
    uint16_t keys[TILE];
    for (Py_ssize_t i = 0; i < n; i += TILE) {
        int m = (int)((n - i) < TILE ? (n - i) : TILE);
        tkeys16[k->ttype](k->t, g + i, m, k, keys);
        pkeys16[k->ptype](k->p, g + i, m, k, keys);
        if (ns == 8)
            count_keys_8(keys, m, h, K);
        else
            count_keys_4(keys, m, h, K);
    }
}

/* Add the NS histograms into the int64 output row and zero them, in one pass over them;
 * returns the invalid count (keys whose target or prediction index is C + 1). Keys of target
 * index C (ignored pixels) are dropped. The NS counters of a key sum to at most `chunk` pixels
 * (the most counted between two flushes), which fits uint32. */
#define DEFINE_FLUSH(NS)                                                                 \
    static int64_t flush_##NS(uint32_t *h, int64_t c, int64_t *out) {                   \
        const size_t w = (size_t)c + 2, K = w * w;                                       \
        int64_t invalid = 0;                                                             \
        for (size_t ti = 0; ti < w; ti++) {                                              \
            const size_t row = ti * w;                                                   \
            for (size_t pi = 0; pi < w; pi++) {                                          \
                uint32_t sum = 0;                                                        \
                for (int s_ = 0; s_ < (NS); s_++) {                                      \
                    sum += h[(size_t)s_ * K + row + pi];                                 \
                    h[(size_t)s_ * K + row + pi] = 0;                                    \
                }                                                                        \
                if (ti == w - 1 || pi == w - 1) /* an invalid target or prediction */    \
                    invalid += (int64_t)sum;                                             \
                else if (ti < (size_t)c)                                                 \
                    out[ti * (w - 1) + pi] += (int64_t)sum;                              \
            }                                                                            \
        }                                                                                \
        return invalid;                                                                  \
    }
DEFINE_FLUSH(4)
DEFINE_FLUSH(8)

/* --- Per-class path: tp, predicted and support per class, without the C x C matrix.
 *
 * What the per-image counts need is the diagonal and the two margins of the matrix, so each pixel
 * makes two keys into one histogram of M = 4 (C + 2) bins:
 *     A = 2 index(t) + [index(t) == index(p)]               in [0, 2 (C + 2))
 *     B = 2 (C + 2) + index(p) + (C + 2) [t is the ignore label]  in [2 (C + 2), M)
 * (index as in the histogram path). Bins grow with C, not C**2: with 150 classes, 608 bins instead
 * of 23,104, so 8 copies stay in the L1 cache and a flush reads 19 KB instead of 370 KB; and the
 * caller needs no (rows, C, C + 1) matrix (7 MB for 40 ADE20K-sized images) to sum up. With few
 * classes ((C + 2)**2 <= 1024 bins) the one key per pixel of the histogram path costs less than two,
 * and its flush sums the diagonal and margins instead. */

#define MARG_2D_MAX_BINS 1024 /* up to 30 classes: one key per pixel into the (C + 2)**2 bins */
#define MARG_MAX_WIDTH 16384  /* 4 (C + 2) keys fit uint16 */

/* A and B keys of one pixel from its target and prediction indices. */
static inline uint16_t marg_a(uint32_t ti, uint32_t pi) { return (uint16_t)(2u * ti + (ti == pi)); }
static inline uint16_t marg_b(uint32_t ti, uint32_t pi, uint32_t c) {
    uint32_t w = c + 2u;
    return (uint16_t)(2u * w + pi + (ti == c ? w : 0u));
}

/* ka, kb [0..BLOCK) of BLOCK pixels of 1-byte labels (C <= KEY_MAX_CLASSES). */
static inline void make_byte_mkeys(const uint8_t *t, const uint8_t *p, const byte_keys *bk,
                                   uint16_t *ka, uint16_t *kb) {
#if SEG_HAVE_SSE2
    const __m128i z = _mm_setzero_si128();
    for (int q = 0; q < BLOCK; q += 16) {
        __m128i ti = byte_index(_mm_loadu_si128((const __m128i *)(t + q)), &bk->ta, bk->c1);
        __m128i pi = byte_index(_mm_loadu_si128((const __m128i *)(p + q)), &bk->pa, bk->c1);
        __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(ti, pi), bk->one);
        __m128i ig = _mm_cmpeq_epi8(ti, bk->cls); /* all ones where the target is ignored */
        __m128i t_lo = _mm_unpacklo_epi8(ti, z), t_hi = _mm_unpackhi_epi8(ti, z);
        __m128i a_lo = _mm_add_epi16(_mm_add_epi16(t_lo, t_lo), _mm_unpacklo_epi8(eq, z));
        __m128i a_hi = _mm_add_epi16(_mm_add_epi16(t_hi, t_hi), _mm_unpackhi_epi8(eq, z));
        __m128i b_lo = _mm_add_epi16(_mm_add_epi16(_mm_unpacklo_epi8(pi, z), bk->base),
                                     _mm_and_si128(_mm_unpacklo_epi8(ig, ig), bk->width));
        __m128i b_hi = _mm_add_epi16(_mm_add_epi16(_mm_unpackhi_epi8(pi, z), bk->base),
                                     _mm_and_si128(_mm_unpackhi_epi8(ig, ig), bk->width));
        _mm_storeu_si128((__m128i *)(ka + q), a_lo);
        _mm_storeu_si128((__m128i *)(ka + q + 8), a_hi);
        _mm_storeu_si128((__m128i *)(kb + q), b_lo);
        _mm_storeu_si128((__m128i *)(kb + q + 8), b_hi);
    }
#else
    const uint32_t c = (uint32_t)bk->w - 2u;
    for (int q = 0; q < BLOCK; q++) {
        uint32_t ti = bk->tx16[t[q]], pi = bk->pl16[p[q]];
        ka[q] = marg_a(ti, pi);
        kb[q] = marg_b(ti, pi, c);
    }
#endif
}

/* Count one block of BLOCK pixels (keys ka, kb) into NS histograms of M bins. */
#define ADD_BLOCK2(h, M, ka, kb, NS)                                   \
    do {                                                               \
        for (int q_ = 0; q_ < BLOCK; q_ += (NS))                       \
            for (int s_ = 0; s_ < (NS); s_++) {                        \
                (h)[(size_t)s_ * (M) + (ka)[q_ + s_]]++;               \
                (h)[(size_t)s_ * (M) + (kb)[q_ + s_]]++;               \
            }                                                          \
    } while (0)

/* Count n pixels of 1-byte labels (t, p) into NS per-class histograms of M bins. */
#define DEFINE_COUNT_MBYTES(NS)                                                              \
    static SEG_NOINLINE void pixel_mblocks_##NS(const uint8_t *t, const uint8_t *p, Py_ssize_t nb,\
                                                const byte_keys *bk, uint32_t *h, size_t M) {\
        uint16_t ka[BLOCK], kb[BLOCK];                                                       \
        for (Py_ssize_t b = 0; b < nb; b++, t += BLOCK, p += BLOCK) {                        \
            make_byte_mkeys(t, p, bk, ka, kb);                                               \
            ADD_BLOCK2(h, M, ka, kb, NS);                                                    \
        }                                                                                    \
    }                                                                                        \
    static void count_mbytes_##NS(const uint8_t *t, const uint8_t *p, Py_ssize_t n,         \
                                  const byte_keys *bk, uint32_t *h, size_t M) {            \
        uint16_t ka[BLOCK], kb[BLOCK];                                                       \
        const uint32_t c = (uint32_t)bk->w - 2u;                                             \
        Py_ssize_t i = 0;                                                                    \
        unsigned blk = 0, skip[2] = {0, 1};                                                  \
        for (; n - i >= BLOCK; i += BLOCK, blk++) {                                          \
            if (SEG_BLOCK_RUNS && skip[0]) { /* a noisy stretch: no look for runs */         \
                Py_ssize_t nb = (n - i) / BLOCK;                                             \
                if (nb > (Py_ssize_t)skip[0]) nb = (Py_ssize_t)skip[0];                      \
                skip[0] = 0;                                                                 \
                pixel_mblocks_##NS(t + i, p + i, nb, bk, h, M);                              \
                i += (nb - 1) * BLOCK;                                                       \
                continue;                                                                    \
            }                                                                                \
            const uint8_t *tt = t + i, *pp = p + i;                                          \
            if (SEG_BLOCK_RUNS) {                                                            \
                uint64_t ch;                                                                 \
                if (run_check(tt, pp, skip, &ch)) {                                          \
                    int q0 = 0;                                                              \
                    for (;;) {                                                               \
                        int q1 = ch ? BLOCK_CTZ(ch) : BLOCK;                                 \
                        const uint32_t len = (uint32_t)(q1 - q0);                            \
                        uint32_t ti = bk->tx16[tt[q0]], pi = bk->pl16[pp[q0]];               \
                        uint32_t *hs = h + (size_t)(blk++ % (NS)) * M;                       \
                        hs[marg_a(ti, pi)] += len;                                           \
                        hs[marg_b(ti, pi, c)] += len;                                        \
                        if (q1 == BLOCK) break;                                              \
                        ch &= ch - 1;                                                        \
                        q0 = q1;                                                             \
                    }                                                                        \
                    continue;                                                                \
                }                                                                            \
            } else {                                                                         \
                uint8_t a = tt[0], b = pp[0], d = 0;                                         \
                for (int j = 0; j < BLOCK; j++) d |= (uint8_t)((tt[j] ^ a) | (pp[j] ^ b));   \
                if (d == 0) {                                                                \
                    uint32_t ti = bk->tx16[a], pi = bk->pl16[b];                             \
                    uint32_t *hs = h + (size_t)(blk % (NS)) * M;                             \
                    hs[marg_a(ti, pi)] += BLOCK;                                             \
                    hs[marg_b(ti, pi, c)] += BLOCK;                                          \
                    continue;                                                                \
                }                                                                            \
            }                                                                                \
            make_byte_mkeys(tt, pp, bk, ka, kb);                                             \
            ADD_BLOCK2(h, M, ka, kb, NS);                                                    \
        }                                                                                    \
        for (; i < n; i++) {                                                                 \
            uint32_t ti = bk->tx16[t[i]], pi = bk->pl16[p[i]];                               \
            h[marg_a(ti, pi)]++;                                                             \
            h[marg_b(ti, pi, c)]++;                                                          \
        }                                                                                    \
    }
DEFINE_COUNT_MBYTES(4)
DEFINE_COUNT_MBYTES(8)

/* Label indices (class, C for the ignore label, C + 1 otherwise) of n labels from pixel i0. */
#define DEFINE_INDEX(NAME, TYPE)                                                               \
    static void index_##NAME(const char *buf, Py_ssize_t i0, int n, const mc_task *k,         \
                             uint32_t *idx) {                                                 \
        const TYPE *x = (const TYPE *)buf + i0;                                               \
        const int64_t c = k->c, ignore = k->ignore;                                           \
        const int has_ignore = k->has_ignore;                                                 \
        for (int i = 0; i < n; i++) idx[i] = label_index((int64_t)x[i], c, has_ignore, ignore); \
    }
DEFINE_INDEX(i8, int8_t)
DEFINE_INDEX(u8, uint8_t)
DEFINE_INDEX(i16, int16_t)
DEFINE_INDEX(u16, uint16_t)
DEFINE_INDEX(i32, int32_t)
DEFINE_INDEX(u32, uint32_t)
DEFINE_INDEX(i64, int64_t)

typedef void (*index_fn)(const char *, Py_ssize_t, int, const mc_task *, uint32_t *);
static const index_fn label_indices[N_TYPES] = {index_i8,  index_u8,  index_i16, index_u16,
                                                index_i32, index_u32, index_i64};

/* Count pixels [g, g + n) of any label dtypes into NS per-class histograms of M bins. */
static void count_mgeneric(const mc_task *k, Py_ssize_t g, Py_ssize_t n, uint32_t *h, size_t M,
                           int ns) {
    uint32_t ti[TILE], pi[TILE];
    uint16_t ka[TILE], kb[TILE];
    const uint32_t c = (uint32_t)k->c;
    for (Py_ssize_t i = 0; i < n; i += TILE) {
        int m = (int)((n - i) < TILE ? (n - i) : TILE);
        label_indices[k->ttype](k->t, g + i, m, k, ti);
        label_indices[k->ptype](k->p, g + i, m, k, pi);
        for (int j = 0; j < m; j++) {
            ka[j] = marg_a(ti[j], pi[j]);
            kb[j] = marg_b(ti[j], pi[j], c);
        }
        int j = 0;
        for (; m - j >= BLOCK; j += BLOCK) {
            if (ns == 8)
                ADD_BLOCK2(h, M, ka + j, kb + j, 8);
            else
                ADD_BLOCK2(h, M, ka + j, kb + j, 4);
        }
        for (; j < m; j++) {
            h[ka[j]]++;
            h[kb[j]]++;
        }
    }
}

/* Count pixels [g, g + n) straight into the int64 per-class row (tp, predicted, support). */
static int64_t count_direct_marg(const mc_task *k, Py_ssize_t g, Py_ssize_t n, int64_t *out) {
    const uint32_t c = (uint32_t)k->c;
    int64_t *tp = out, *pr = out + c, *su = out + 2 * (size_t)c;
    int64_t invalid = 0;
    uint32_t ti[TILE], pi[TILE];
    for (Py_ssize_t i = 0; i < n; i += TILE) {
        int m = (int)((n - i) < TILE ? (n - i) : TILE);
        label_indices[k->ttype](k->t, g + i, m, k, ti);
        label_indices[k->ptype](k->p, g + i, m, k, pi);
        for (int j = 0; j < m; j++) {
            uint32_t a = ti[j], b = pi[j];
            invalid += (a == c + 1u) | (b == c + 1u);
            if (a >= c) continue; /* ignored or invalid target */
            su[a]++;
            tp[a] += a == b;
            if (b < c) pr[b]++;
        }
    }
    return invalid;
}

/* Add NS per-class histograms of M = 4 (C + 2) bins into the int64 row (tp, predicted, support)
 * and zero them; returns a positive number when a target or prediction label was invalid. */
static int64_t flush_marg(uint32_t *h, int ns, int64_t c, int64_t *out) {
    const size_t w = (size_t)c + 2, M = 4 * w;
    for (int s = 1; s < ns; s++) {
        uint32_t *hs = h + (size_t)s * M;
        for (size_t j = 0; j < M; j++) h[j] += hs[j];
        memset(hs, 0, M * sizeof(uint32_t));
    }
    int64_t *tp = out, *pr = out + c, *su = out + 2 * c;
    const uint32_t *b = h + 2 * w;
    for (int64_t i = 0; i < c; i++) {
        tp[i] += h[2 * i + 1];
        su[i] += (int64_t)h[2 * i] + h[2 * i + 1];
        pr[i] += b[i];
    }
    int64_t invalid = (int64_t)h[2 * (c + 1)] + h[2 * (c + 1) + 1] + b[c + 1] + b[w + c + 1];
    memset(h, 0, M * sizeof(uint32_t));
    return invalid;
}

/* Add NS histograms of (C + 2)**2 keys (the histogram path) into the int64 per-class row and
 * zero them; returns a positive number when a target or prediction label was invalid. */
static int64_t flush_2d_marg(uint32_t *h, int ns, int64_t c, int64_t *out) {
    const size_t w = (size_t)c + 2, K = w * w;
    for (int s = 1; s < ns; s++) {
        uint32_t *hs = h + (size_t)s * K;
        for (size_t j = 0; j < K; j++) h[j] += hs[j];
        memset(hs, 0, K * sizeof(uint32_t));
    }
    int64_t *tp = out, *pr = out + c, *su = out + 2 * c;
    int64_t invalid = 0;
    for (size_t ti = 0; ti < (size_t)c; ti++) {
        const uint32_t *row = h + ti * w;
        int64_t sum = row[c]; /* the ignore label predicted */
        for (size_t pi = 0; pi < (size_t)c; pi++) {
            pr[pi] += row[pi];
            sum += row[pi];
        }
        tp[ti] += row[ti];
        su[ti] += sum;
        invalid += row[c + 1];
    }
    invalid += h[(size_t)c * w + c + 1]; /* ignored target, invalid prediction */
    for (size_t pi = 0; pi < w; pi++) invalid += h[(w - 1) * w + pi];
    memset(h, 0, K * sizeof(uint32_t));
    return invalid;
}

static void multiclass_task(void *arg) {
    mc_task *k = (mc_task *)arg;
    const Py_ssize_t cols = k->cols;
    const int per_class = k->per_class;
    const size_t out_row = per_class ? (size_t)(3 * k->c) : (size_t)(k->c * (k->c + 1));
    const size_t w = (size_t)k->c + 2;
    /* Per-class counts with many classes: two keys per pixel into 4 (C + 2) bins (see above). */
    const int two_keys = per_class && (k->c > KEY_MAX_CLASSES || w * w > MARG_2D_MAX_BINS);
    const size_t K = two_keys ? 4 * w : w * w;
    /* 8 histograms while they fit the L1 cache together, else 4. */
    const int ns = K <= 1024 ? 8 : 4;
    /* Huge class counts, or rows too short to pay for clearing and flushing the histograms. */
    const int direct = (two_keys ? w > MARG_MAX_WIDTH : k->c > KEY_MAX_CLASSES) ||
                       (size_t)cols < (size_t)ns * K / 2;
    uint32_t *h = NULL;
    if (k->g0 >= k->g1) return;
    if (!direct) {
        h = (uint32_t *)calloc((size_t)ns * K, sizeof(uint32_t));
        if (h == NULL) {
            k->failed = 1;
            return;
        }
    }
    byte_keys bk;
    memset(&bk, 0, sizeof bk);
    if (k->tl16 != NULL) {
        bk.tl16 = k->tl16;
        bk.pl16 = k->pl16;
        bk.tx16 = k->tx16;
        bk.w = (uint16_t)w;
#if SEG_HAVE_SSE2
        const int types[2] = {k->ttype, k->ptype};
        byte_axis *axes[2] = {&bk.ta, &bk.pa};
        for (int a = 0; a < 2; a++) {
            int is_i8 = types[a] == T_I8;
            int64_t lo = is_i8 ? -128 : 0, hi = is_i8 ? 127 : 255;
            int64_t lim = k->c < hi + 1 ? k->c : hi + 1;
            int ign_on = k->has_ignore && k->ignore >= lo && k->ignore <= hi;
            axes[a]->lim1 = _mm_set1_epi8((char)(uint8_t)(lim - 1));
            axes[a]->ign = _mm_set1_epi8((char)(uint8_t)(ign_on ? k->ignore : 0));
            axes[a]->ign_on = _mm_set1_epi8(ign_on ? (char)-1 : 0);
        }
        bk.c1 = _mm_set1_epi8((char)(uint8_t)(k->c + 1));
        bk.width = _mm_set1_epi16((short)(k->c + 2));
        bk.cls = _mm_set1_epi8((char)(uint8_t)k->c);
        bk.one = _mm_set1_epi8(1);
        bk.base = _mm_set1_epi16((short)(2 * (k->c + 2)));
#endif
    }
    for (Py_ssize_t g = k->g0; g < k->g1;) {
        Py_ssize_t r = g / cols, row_end = (r + 1) * cols;
        Py_ssize_t stop = row_end < k->g1 ? row_end : k->g1;
        int64_t *out = k->out + (size_t)r * out_row;
        if (r * cols < k->g0) { /* the previous task counts the start of this row */
            k->first = (int64_t *)calloc(out_row, sizeof(int64_t));
            if (k->first == NULL) {
                k->failed = 1;
                break;
            }
            k->first_row = r;
            out = k->first;
        }
        if (direct) {
            k->invalid += per_class ? count_direct_marg(k, g, stop - g, out)
                                    : count_direct(k, g, stop - g, out);
            g = stop;
            continue;
        }
        while (g < stop) {
            Py_ssize_t piece = (uint64_t)(stop - g) > k->chunk ? (Py_ssize_t)k->chunk : stop - g;
            if (two_keys) {
                if (k->tl16 != NULL) {
                    const uint8_t *t = (const uint8_t *)k->t + g, *p = (const uint8_t *)k->p + g;
                    if (ns == 8)
                        count_mbytes_8(t, p, piece, &bk, h, K);
                    else
                        count_mbytes_4(t, p, piece, &bk, h, K);
                } else {
                    count_mgeneric(k, g, piece, h, K, ns);
                }
                k->invalid += flush_marg(h, ns, k->c, out);
                g += piece;
                continue;
            }
            if (k->tl16 != NULL) {
                const uint8_t *t = (const uint8_t *)k->t + g, *p = (const uint8_t *)k->p + g;
                if (ns == 8)
                    count_bytes_8(t, p, piece, &bk, h, K);
                else
                    count_bytes_4(t, p, piece, &bk, h, K);
            } else {
                count_generic(k, g, piece, h, K, ns);
            }
            if (per_class)
                k->invalid += flush_2d_marg(h, ns, k->c, out);
            else
                k->invalid += ns == 8 ? flush_8(h, k->c, out) : flush_4(h, k->c, out);
            g += piece;
        }
    }
    free(h);
}

static PyObject *label_pass(PyObject *args, int per_class) {
    PyObject *po, *to, *oo;
    Py_ssize_t rows, cols;
    int ptype, ttype, has_ignore;
    long long c, ignore;
    long nthreads;
    unsigned long long chunk;
    if (!PyArg_ParseTuple(args, "OOnniiLLpOlK", &po, &to, &rows, &cols, &ptype, &ttype, &c,
                          &ignore, &has_ignore, &oo, &nthreads, &chunk))
        return NULL;
    if (check_shape(rows, cols) < 0) return NULL;
    if (ptype < 0 || ptype >= N_TYPES || ttype < 0 || ttype >= N_TYPES) {
        PyErr_SetString(PyExc_ValueError, "unknown label dtype code.");
        return NULL;
    }
    /* Keys up to 2 (C + 2)(C + 1) of the direct path must fit int32. */
    if (c < 1 || c > 30000) {
        PyErr_Format(PyExc_ValueError, "`num_classes` must lie in [1, 30000], got %lld.", c);
        return NULL;
    }
    if (chunk < 1 || chunk > 0xFFFFFFFFULL) {
        PyErr_SetString(PyExc_ValueError, "`chunk` must lie in [1, 2**32 - 1].");
        return NULL;
    }
    Py_buffer pv, tv, ov;
    if (get_buffer(po, &pv, 0, rows * cols * type_size[ptype], "pred") < 0) return NULL;
    if (get_buffer(to, &tv, 0, rows * cols * type_size[ttype], "target") < 0) {
        PyBuffer_Release(&pv);
        return NULL;
    }
    if ((uintptr_t)pv.buf % (uintptr_t)type_size[ptype] != 0 ||
        (uintptr_t)tv.buf % (uintptr_t)type_size[ttype] != 0) {
        PyErr_SetString(PyExc_ValueError, "`pred` and `target` must be aligned to their dtype.");
        PyBuffer_Release(&pv);
        PyBuffer_Release(&tv);
        return NULL;
    }
    Py_ssize_t out_row_len = per_class ? (Py_ssize_t)(3 * c) : (Py_ssize_t)(c * (c + 1));
    Py_ssize_t out_bytes = rows * out_row_len * (Py_ssize_t)sizeof(int64_t);
    if (get_buffer(oo, &ov, 1, out_bytes, "out") < 0) {
        PyBuffer_Release(&pv);
        PyBuffer_Release(&tv);
        return NULL;
    }
    int32_t tlut[256], plut[256];
    uint16_t tl16[256], pl16[256], tx16[256];
    int fast = type_size[ptype] == 1 && type_size[ttype] == 1;
    mc_task proto;
    memset(&proto, 0, sizeof proto);
    proto.p = (const char *)pv.buf;
    proto.t = (const char *)tv.buf;
    proto.cols = cols;
    proto.ptype = ptype;
    proto.ttype = ttype;
    proto.c = c;
    proto.ignore = ignore;
    proto.has_ignore = has_ignore;
    proto.out = (int64_t *)ov.buf;
    proto.chunk = chunk;
    proto.per_class = per_class;
    if (fast) {
        for (int v = 0; v < 256; v++) {
            int64_t tv_ = ttype == T_I8 ? (int64_t)(int8_t)v : (int64_t)v;
            int64_t pv_ = ptype == T_I8 ? (int64_t)(int8_t)v : (int64_t)v;
            tlut[v] = target_base(tv_, &proto);
            plut[v] = pred_bin(pv_, &proto);
            if (c <= KEY_MAX_CLASSES) {
                tl16[v] = (uint16_t)(label_index(tv_, c, has_ignore, ignore) * (uint32_t)(c + 2));
                pl16[v] = (uint16_t)label_index(pv_, c, has_ignore, ignore);
                tx16[v] = (uint16_t)label_index(tv_, c, has_ignore, ignore);
            }
        }
        proto.tlut = tlut;
        proto.plut = plut;
        if (c <= KEY_MAX_CLASSES) {
            proto.tl16 = tl16;
            proto.pl16 = pl16;
            proto.tx16 = tx16;
        }
    }
    /* Threads split the pixels, not the rows, so that a few large images keep every thread
     * busy; a row shared by two threads is counted by each into its own row of counts. */
    Py_ssize_t total = rows * cols;
    int n = clamp_threads(nthreads, total);
    mc_task tasks[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        tasks[i] = proto;
        tasks[i].g0 = total * i / n;
        tasks[i].g1 = total * (i + 1) / n;
    }
    Py_BEGIN_ALLOW_THREADS
    run_tasks(multiclass_task, (char *)tasks, sizeof(mc_task), n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&pv);
    PyBuffer_Release(&tv);
    int64_t invalid = 0, failed = 0;
    size_t out_row = (size_t)out_row_len;
    for (int i = 0; i < n; i++) {
        if (tasks[i].first != NULL) {
            int64_t *o = (int64_t *)ov.buf + (size_t)tasks[i].first_row * out_row;
            for (size_t j = 0; j < out_row; j++) o[j] += tasks[i].first[j];
            free(tasks[i].first);
        }
        failed |= tasks[i].failed;
        invalid += tasks[i].invalid;
    }
    PyBuffer_Release(&ov);
    if (failed) return PyErr_NoMemory();
    return PyLong_FromLongLong(invalid);
}

static PyObject *py_confusion_matrix(PyObject *self, PyObject *args) {
    (void)self;
    return label_pass(args, 0);
}

static PyObject *py_class_counts(PyObject *self, PyObject *args) {
    (void)self;
    return label_pass(args, 1);
}

static PyObject *py_cpu_count(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
#if SEG_HAVE_THREADS && defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return PyLong_FromLong(n < 1 ? 1 : n);
#else
    return PyLong_FromLong(1);
#endif
}

/* ------------------------------------------------------------------------------------------- */
/* Nearest surface element (boundary metrics)                                                   */
/* ------------------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *grid;
    const int64_t *sources, *offsets;
    Py_ssize_t i0, i1, n_offsets;
    int64_t *out;
} near_task;

/* For each source, the index of the first offset (they are sorted by length) that lands on a
 * nonzero byte of the grid, or -1 when none does. */
static void nearest_task(void *arg) {
    near_task *k = (near_task *)arg;
    for (Py_ssize_t i = k->i0; i < k->i1; i++) {
        const uint8_t *at = k->grid + k->sources[i];
        int64_t found = -1;
        for (Py_ssize_t j = 0; j < k->n_offsets; j++) {
            if (at[k->offsets[j]]) {
                found = (int64_t)j;
                break;
            }
        }
        k->out[i] = found;
    }
}

/* nearest_offsets(grid, sources, offsets, out, nthreads): grid is a flat 1-byte buffer, sources
 * and offsets int64 linear indices; every source + offset must lie inside the grid (checked). */
static PyObject *py_nearest_offsets(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *go, *so, *oo, *ro;
    long nthreads;
    if (!PyArg_ParseTuple(args, "OOOOl", &go, &so, &oo, &ro, &nthreads)) return NULL;
    Py_buffer gv, sv, ov, rv;
    if (PyObject_GetBuffer(go, &gv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (PyObject_GetBuffer(so, &sv, PyBUF_C_CONTIGUOUS) < 0) goto release_g;
    if (PyObject_GetBuffer(oo, &ov, PyBUF_C_CONTIGUOUS) < 0) goto release_s;
    if (PyObject_GetBuffer(ro, &rv, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) goto release_o;
    Py_ssize_t n = sv.len / (Py_ssize_t)sizeof(int64_t), m = ov.len / (Py_ssize_t)sizeof(int64_t);
    if (rv.len != sv.len) {
        PyErr_SetString(PyExc_ValueError, "`out` must hold one int64 per source.");
        goto release_all;
    }
    const int64_t *src = (const int64_t *)sv.buf, *off = (const int64_t *)ov.buf;
    int64_t smin = 0, smax = -1, omin = 0, omax = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i == 0 || src[i] < smin) smin = src[i];
        if (i == 0 || src[i] > smax) smax = src[i];
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        if (j == 0 || off[j] < omin) omin = off[j];
        if (j == 0 || off[j] > omax) omax = off[j];
    }
    /* Written so that nothing can overflow: every source inside the grid, then every offset
     * within the room on each side of the extreme sources. */
    if (n > 0 && m > 0 &&
        (smin < 0 || smax >= (int64_t)gv.len || omin < -smin || omax >= (int64_t)gv.len - smax)) {
        PyErr_SetString(PyExc_ValueError, "a source + offset lies outside `grid`.");
        goto release_all;
    }
    int nt = clamp_threads(nthreads, n);
    near_task tasks[MAX_THREADS];
    for (int i = 0; i < nt; i++) {
        tasks[i].grid = (const uint8_t *)gv.buf;
        tasks[i].sources = src;
        tasks[i].offsets = off;
        tasks[i].n_offsets = m;
        tasks[i].i0 = n * i / nt;
        tasks[i].i1 = n * (i + 1) / nt;
        tasks[i].out = (int64_t *)rv.buf;
    }
    Py_BEGIN_ALLOW_THREADS
    run_tasks(nearest_task, (char *)tasks, sizeof(near_task), nt);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&rv);
    PyBuffer_Release(&ov);
    PyBuffer_Release(&sv);
    PyBuffer_Release(&gv);
    Py_RETURN_NONE;
release_all:
    PyBuffer_Release(&rv);
release_o:
    PyBuffer_Release(&ov);
release_s:
    PyBuffer_Release(&sv);
release_g:
    PyBuffer_Release(&gv);
    return NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Binary mask values                                                                           */
/* ------------------------------------------------------------------------------------------- */

/* mask_values(buf) -> 0: every byte is 0 or 1; 1: every byte is 0 or 255; 2: anything else.
 * One pass of OR-reductions: `o` collects every bit set, `m` the bytes whose bits are not all
 * equal ((b ^ (b >> 1)) & 0x7f is zero exactly for b in {0, 255}). */
static PyObject *py_mask_values(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *bo;
    if (!PyArg_ParseTuple(args, "O", &bo)) return NULL;
    Py_buffer bv;
    if (PyObject_GetBuffer(bo, &bv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    const uint8_t *b = (const uint8_t *)bv.buf;
    Py_ssize_t n = bv.len, i = 0;
    uint64_t o = 0, m = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        o |= w;
        m |= (w ^ (w >> 1)) & low7;
    }
    for (; i < n; i++) {
        uint64_t w = b[i];
        o |= w;
        m |= (w ^ (w >> 1)) & 0x7f;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&bv);
    int ones = (o & ~0x0101010101010101ULL) == 0;
    return PyLong_FromLong(ones ? 0 : (m == 0 ? 1 : 2));
}

/* ------------------------------------------------------------------------------------------- */
/* Connected components of a binary mask                                                        */
/* ------------------------------------------------------------------------------------------- */

/* A union-find forest over provisional labels 1..n (parent[0] unused); a root is its own parent
 * and the smaller label of two merged trees becomes the root. */
typedef struct {
    uint32_t *parent;
    size_t n, cap;
} label_forest;

static inline uint32_t forest_find(uint32_t *parent, uint32_t a) {
    while (parent[a] != a) {
        parent[a] = parent[parent[a]]; /* path halving */
        a = parent[a];
    }
    return a;
}

static inline void forest_union(uint32_t *parent, uint32_t a, uint32_t b) {
    a = forest_find(parent, a);
    b = forest_find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* A new provisional label, or 0 when memory ran out (or 2**32 - 1 labels would be exceeded). */
static uint32_t forest_add(label_forest *f) {
    if (f->n + 1 >= f->cap) {
        if (f->cap >= (size_t)UINT32_MAX / 2) return 0;
        size_t cap = f->cap ? 2 * f->cap : 4096;
        uint32_t *grown = (uint32_t *)realloc(f->parent, cap * sizeof(uint32_t));
        if (grown == NULL) return 0;
        f->parent = grown;
        f->cap = cap;
    }
    uint32_t label = (uint32_t)++f->n;
    f->parent[label] = label;
    return label;
}

/* The first index >= x of a nonzero byte of the row, or w: background is skipped 8 bytes at a
 * time. run_stop: the first index >= x of a zero byte, or w (the end of the run at x). */
static inline Py_ssize_t next_nonzero(const uint8_t *row, Py_ssize_t x, Py_ssize_t w) {
    while (x + 32 <= w) {
        uint64_t word[4];
        memcpy(word, row + x, 32);
        if (word[0] | word[1] | word[2] | word[3]) break;
        x += 32;
    }
    while (x + 8 <= w) {
        uint64_t word;
        memcpy(&word, row + x, 8);
        if (word) break;
        x += 8;
    }
    while (x < w && !row[x]) x++;
    return x;
}

static inline Py_ssize_t run_stop(const uint8_t *row, Py_ssize_t x, Py_ssize_t w) {
    while (x < w && row[x]) x++;
    return x;
}

/* Merge the run's label with every labelled voxel of the neighbour row `nb` over [a, b) (the
 * caller clips the range to the row). Runs of one label in the row cost one union. */
static inline void merge_row(uint32_t *parent, const uint32_t *nb, Py_ssize_t a, Py_ssize_t b,
                             uint32_t label) {
    uint32_t last = 0;
    for (Py_ssize_t x = a; x < b; x++) {
        uint32_t v = nb[x];
        if (v && v != last) {
            forest_union(parent, label, v);
            last = v;
        }
    }
}

/* label_components(mask, depth, height, width, full, out) -> n
 * The connected components of a 1-byte mask (nonzero = foreground) of depth x height x width
 * voxels (depth 1 for a 2-D image), through faces (full = 0: 4 or 6 neighbours) or through
 * faces, edges and corners (full = 1: 8 or 26 neighbours), written to `out` (uint32, zero on
 * entry; background stays 0) as 1..n in the raster order of each component's first voxel: the
 * numbering of scipy.ndimage.label. Two passes over the foreground only: the first gives each
 * run of foreground voxels along a row a provisional label and merges it, in a union-find forest,
 * with the labels of the already visited neighbour rows it touches (the row above, and for 3-D
 * the three rows of the plane before; face connectivity: only the voxels right above and behind,
 * full: also one voxel to each side); the second writes each run's component number. Masks of
 * 2**32 - 1 voxels or more are refused (the caller labels them otherwise). */
static PyObject *py_label_components(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *mo, *oo;
    Py_ssize_t d, h, w;
    int full;
    if (!PyArg_ParseTuple(args, "OnnnpO", &mo, &d, &h, &w, &full, &oo)) return NULL;
    if (d < 0 || h < 0 || w < 0 || (d && h && w > PY_SSIZE_T_MAX / d / h) ||
        (uint64_t)d * (uint64_t)h * (uint64_t)w >= UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "`depth`, `height` or `width` is out of range.");
        return NULL;
    }
    Py_ssize_t n = d * h * w;
    Py_buffer mv, ov;
    if (get_buffer(mo, &mv, 0, n, "mask") < 0) return NULL;
    if (get_buffer(oo, &ov, 1, n * (Py_ssize_t)sizeof(uint32_t), "out") < 0) {
        PyBuffer_Release(&mv);
        return NULL;
    }
    const uint8_t *m = (const uint8_t *)mv.buf;
    uint32_t *out = (uint32_t *)ov.buf;
    label_forest f = {NULL, 0, 0};
    uint32_t *final = NULL;
    uint8_t *busy = (uint8_t *)calloc((size_t)(d * h) + 1, 1); /* rows holding foreground */
    int failed = busy == NULL;
    uint32_t components = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t side = full ? 1 : 0; /* neighbour rows are read over [a - side, b + side) */
    for (Py_ssize_t z = 0; z < d && !failed; z++) {
        for (Py_ssize_t y = 0; y < h && !failed; y++) {
            const uint8_t *row = m + (z * h + y) * w;
            uint32_t *lab = out + (z * h + y) * w;
            for (Py_ssize_t a = next_nonzero(row, 0, w); a < w; a = next_nonzero(row, a, w)) {
                Py_ssize_t b = run_stop(row, a, w);
                uint32_t label = forest_add(&f);
                if (label == 0) {
                    failed = 1;
                    break;
                }
                Py_ssize_t lo = a - side < 0 ? 0 : a - side, hi = b + side > w ? w : b + side;
                if (y > 0) merge_row(f.parent, lab - w, lo, hi, label);
                if (z > 0) {
                    const uint32_t *plane = lab - h * w;
                    merge_row(f.parent, plane, lo, hi, label);
                    if (full && y > 0) merge_row(f.parent, plane - w, lo, hi, label);
                    if (full && y + 1 < h) merge_row(f.parent, plane + w, lo, hi, label);
                }
                for (Py_ssize_t x = a; x < b; x++) lab[x] = label;
                busy[z * h + y] = 1;
                a = b;
            }
        }
    }
    if (!failed) {
        final = (uint32_t *)calloc(f.n + 1, sizeof(uint32_t));
        failed = final == NULL;
    }
    if (!failed) {
        for (Py_ssize_t r = 0; r < d * h; r++) {
            if (!busy[r]) continue;
            const uint8_t *row = m + r * w;
            uint32_t *lab = out + r * w;
            for (Py_ssize_t a = next_nonzero(row, 0, w); a < w; a = next_nonzero(row, a, w)) {
                Py_ssize_t b = run_stop(row, a, w);
                uint32_t root = forest_find(f.parent, lab[a]);
                if (final[root] == 0) final[root] = ++components;
                for (Py_ssize_t x = a; x < b; x++) lab[x] = final[root];
                a = b;
            }
        }
    }
    Py_END_ALLOW_THREADS
    free(final);
    free(busy);
    free(f.parent);
    PyBuffer_Release(&mv);
    PyBuffer_Release(&ov);
    if (failed) return PyErr_NoMemory();
    return PyLong_FromUnsignedLong(components);
}

/* ------------------------------------------------------------------------------------------- */
/* Overlap pairs of instance label maps                                                         */
/* ------------------------------------------------------------------------------------------- */

/* The pairs of one image are counted in one pass: a run of equal pairs (an object spans
 * neighbouring pixels) is added once to an open-addressing hash table of the pairs seen, which
 * grows at half load; its size is the number of pairs, not of pixels. Ids are read as uint64
 * (the caller checked that they are >= 0). py_overlap_tables (below) runs this over a batch. */
typedef struct {
    uint64_t *p, *t;
    int64_t *c;
    size_t cap, used;
    size_t last;        /* slot of the last pair added (valid while `generation` is unchanged) */
    size_t generation;  /* bumped when the table grows (slots move) */
    /* the most recently added pairs and their slots: runs along a row alternate between a few
     * pairs (background, an object, background...), so most adds skip the hash probe */
    uint64_t mru_p[4], mru_t[4];
    size_t mru_slot[4], mru_gen[4];
    unsigned mru_next;
} pair_table;

static inline size_t pair_hash(uint64_t p, uint64_t t, size_t mask) {
    uint64_t h = p * 0x9E3779B97F4A7C15ULL ^ (t + 0x632BE59BD9B4E019ULL + (p << 6) + (p >> 2));
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static int pair_table_init(pair_table *tb, size_t cap) {
    tb->cap = cap;
    tb->used = 0;
    tb->last = 0;
    tb->generation = 1;
    tb->mru_next = 0;
    for (int k = 0; k < 4; k++) tb->mru_gen[k] = 0;
    tb->p = (uint64_t *)malloc(cap * sizeof(uint64_t));
    tb->t = (uint64_t *)malloc(cap * sizeof(uint64_t));
    tb->c = (int64_t *)calloc(cap, sizeof(int64_t));
    return tb->p && tb->t && tb->c ? 0 : -1;
}

static void pair_table_free(pair_table *tb) {
    free(tb->p);
    free(tb->t);
    free(tb->c);
}

static int pair_table_add(pair_table *tb, uint64_t p, uint64_t t, int64_t n);

static int pair_table_grow(pair_table *tb) {
    pair_table big;
    if (pair_table_init(&big, tb->cap * 2) < 0) {
        pair_table_free(&big);
        return -1;
    }
    for (size_t i = 0; i < tb->cap; i++)
        if (tb->c[i] > 0) pair_table_add(&big, tb->p[i], tb->t[i], tb->c[i]);
    size_t generation = tb->generation + 1;
    pair_table_free(tb);
    *tb = big;
    tb->generation = generation + 1;  /* every cached slot is stale */
    return 0;
}

/* Add `n` pixels to the pair (p, t): through the cache of recent pairs, else the hash table. */
static inline int pair_table_add_cached(pair_table *tb, uint64_t p, uint64_t t, int64_t n) {
    for (int k = 0; k < 4; k++) {
        if (tb->mru_gen[k] == tb->generation && tb->mru_p[k] == p && tb->mru_t[k] == t) {
            tb->c[tb->mru_slot[k]] += n;
            return 0;
        }
    }
    if (pair_table_add(tb, p, t, n) < 0) return -1;
    unsigned k = tb->mru_next++ & 3u;
    tb->mru_p[k] = p;
    tb->mru_t[k] = t;
    tb->mru_slot[k] = tb->last;
    tb->mru_gen[k] = tb->generation;
    return 0;
}

static int pair_table_add(pair_table *tb, uint64_t p, uint64_t t, int64_t n) {
    size_t mask = tb->cap - 1, i = pair_hash(p, t, mask);
    while (tb->c[i] > 0) {
        if (tb->p[i] == p && tb->t[i] == t) {
            tb->c[i] += n;
            tb->last = i;
            return 0;
        }
        i = (i + 1) & mask;
    }
    tb->p[i] = p;
    tb->t[i] = t;
    tb->c[i] = n;
    tb->last = i;
    tb->used++;
    if (2 * tb->used > tb->cap) return pair_table_grow(tb);
    return 0;
}

static inline uint64_t load_id(const void *buf, int type, Py_ssize_t i) {
    switch (type) {
        case T_I8: return (uint64_t)(int64_t)((const int8_t *)buf)[i];
        case T_U8: return ((const uint8_t *)buf)[i];
        case T_I16: return (uint64_t)(int64_t)((const int16_t *)buf)[i];
        case T_U16: return ((const uint16_t *)buf)[i];
        case T_I32: return (uint64_t)(int64_t)((const int32_t *)buf)[i];
        case T_U32: return ((const uint32_t *)buf)[i];
        default: return (uint64_t)((const int64_t *)buf)[i];
    }
}

/* The pairs of ids below 2**32 (every type but int64: ids are >= 0) are kept under one packed
 * key (pred << 32 | target) in a second open-addressing table: one multiply to hash (Fibonacci
 * hashing: the top bits of key * 2**64 / phi), one compare per probe, no cache of recent pairs.
 * Measured on W5 (uint16), counting the runs into it takes about half the time of the (pred,
 * target) table above, whose recent-pair cache costs a mispredicted branch per run. */
typedef struct {
    uint64_t *key;
    int64_t *c; /* pixels of the slot's pair; 0: the slot is empty */
    size_t cap, used;
    int bits; /* cap = 2**bits */
} key_table;

static int key_table_init(key_table *kt, int bits) {
    kt->bits = bits;
    kt->cap = (size_t)1 << bits;
    kt->used = 0;
    kt->key = (uint64_t *)malloc(kt->cap * sizeof(uint64_t));
    kt->c = (int64_t *)calloc(kt->cap, sizeof(int64_t));
    return kt->key && kt->c ? 0 : -1;
}

static void key_table_free(key_table *kt) {
    free(kt->key);
    free(kt->c);
}

static void key_table_clear(key_table *kt) {
    memset(kt->c, 0, kt->cap * sizeof(int64_t));
    kt->used = 0;
}

static inline size_t key_slot(uint64_t key, int bits) {
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* Insert a key known to be absent (no growth check: used by the growth itself). */
static void key_table_put(key_table *kt, uint64_t key, int64_t n) {
    size_t mask = kt->cap - 1, i = key_slot(key, kt->bits);
    while (kt->c[i] > 0) i = (i + 1) & mask;
    kt->key[i] = key;
    kt->c[i] = n;
    kt->used++;
}

static int key_table_grow(key_table *kt) {
    key_table big;
    /* 2**(bits + 1) slots of 8-byte words must be addressable (a table never holds more pairs
     * than an image has pixels: this only fails where memory would) */
    if (kt->bits + 1 > (int)(8 * sizeof(size_t)) - 4) return -1;
    if (key_table_init(&big, kt->bits + 1) < 0) {
        key_table_free(&big);
        return -1;
    }
    for (size_t i = 0; i < kt->cap; i++)
        if (kt->c[i] > 0) key_table_put(&big, kt->key[i], kt->c[i]);
    key_table_free(kt);
    *kt = big;
    return 0;
}

/* Add `n` pixels to the pair of `key`; the table grows at half load. */
static inline int key_table_add(key_table *kt, uint64_t key, int64_t n) {
    size_t mask = kt->cap - 1, i = key_slot(key, kt->bits);
    while (kt->c[i] > 0) {
        if (kt->key[i] == key) {
            kt->c[i] += n;
            return 0;
        }
        i = (i + 1) & mask;
    }
    kt->key[i] = key;
    kt->c[i] = n;
    if (2 * ++kt->used > kt->cap) return key_table_grow(kt);
    return 0;
}

/* run_end_*: the first index >= i where (p, t) differs from (cp, ct), or n (the passes of int64
 * ids, and of every type where the change masks below are not built). With SSE2 (and a
 * compiler with __builtin_ctz), 16 bytes of each map are compared at once and the first
 * difference is found from the comparison's bit mask: no branch per pixel inside a run. */
#if SEG_HAVE_SSE2 && defined(__GNUC__)
#define SEG_RUN_SIMD 1
static inline Py_ssize_t run_end_i64(const int64_t *p, const int64_t *t, Py_ssize_t i,
                                     Py_ssize_t n, int64_t cp, int64_t ct) {
    __m128i vp = _mm_set1_epi64x(cp), vt = _mm_set1_epi64x(ct);
    for (; i + 2 <= n; i += 2) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(t + i));
        __m128i e = _mm_and_si128(_mm_cmpeq_epi32(a, vp), _mm_cmpeq_epi32(b, vt));
        e = _mm_and_si128(e, _mm_shuffle_epi32(e, _MM_SHUFFLE(2, 3, 0, 1)));  /* both halves */
        int m = _mm_movemask_epi8(e);
        if (m != 0xFFFF) return i + (__builtin_ctz((unsigned)~m & 0xFFFFu) >> 3);
    }
    while (i < n && p[i] == cp && t[i] == ct) i++;
    return i;
}
#else
#define SEG_RUN_SIMD 0
#define RUN_END_SCALAR(NAME, T)                                                                \
    static inline Py_ssize_t NAME(const T *p, const T *t, Py_ssize_t i, Py_ssize_t n, T cp,   \
                                  T ct) {                                                      \
        while (i < n && p[i] == cp && t[i] == ct) i++;                                         \
        return i;                                                                              \
    }
RUN_END_SCALAR(run_end_u8, uint8_t)
RUN_END_SCALAR(run_end_u16, uint16_t)
RUN_END_SCALAR(run_end_i32, int32_t)
RUN_END_SCALAR(run_end_i64, int64_t)
#endif

/* Add the run of pixels [A, B) of one (prediction, target) pair unless its target is the ignore
 * id: into the packed-key table `kt` (KEYED) or the (pred, target) table `tb`. */
#define PAIR_ADD_RUN(KEYED, A, B)                                                              \
    do {                                                                                       \
        uint64_t up_ = (uint64_t)(int64_t)p[A], ut_ = (uint64_t)(int64_t)t[A];                 \
        if (!(has_ignore && ut_ == ignore)) {                                                  \
            int failed_ = (KEYED) ? key_table_add(kt, up_ << 32 | ut_, (int64_t)((B) - (A)))   \
                                  : pair_table_add_cached(tb, up_, ut_, (int64_t)((B) - (A))); \
            if (failed_ < 0) return -1;                                                        \
            total += (B) - (A);                                                                \
        }                                                                                      \
    } while (0)

/* The pass for one type (both maps of it): each run is found by run_end_* and added once. */
#define PAIR_PASS(NAME, T, RUN_END, KEYED)                                                     \
    static int NAME(const T *p, const T *t, Py_ssize_t n, int has_ignore, uint64_t ignore,     \
                    pair_table *tb, key_table *kt, int64_t *counted) {                         \
        int64_t total = 0;                                                                     \
        Py_ssize_t i = 0;                                                                      \
        (void)tb;                                                                              \
        (void)kt;                                                                              \
        while (i < n) {                                                                        \
            Py_ssize_t j = RUN_END(p, t, i + 1, n, p[i], t[i]);                                \
            PAIR_ADD_RUN(KEYED, i, j);                                                         \
            i = j;                                                                             \
        }                                                                                      \
        *counted = total;                                                                      \
        return 0;                                                                              \
    }

PAIR_PASS(pairs_i64_i64, int64_t, run_end_i64, 0)

#if SEG_RUN_SIMD
/* change_mask_*: bit k is set when (p, t)[i + k] differs from (p, t)[i + k - 1], k in [0, 64).
 * Reads p[i - 1 .. i + 63] and the same of t: the caller keeps 1 <= i and i + 64 <= n. Each
 * map is compared with itself shifted by one pixel, 16 bytes at a time; the equal-lane masks
 * of both maps are and-ed, packed to one byte per pixel and gathered by movemask. */
static inline uint64_t change_mask_u8(const uint8_t *p, const uint8_t *t, Py_ssize_t i) {
    uint64_t m = 0;
    for (int k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i + k));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(p + i + k - 1));
        __m128i b = _mm_loadu_si128((const __m128i *)(t + i + k));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(t + i + k - 1));
        __m128i e = _mm_and_si128(_mm_cmpeq_epi8(a, a1), _mm_cmpeq_epi8(b, b1));
        m |= (uint64_t)(~_mm_movemask_epi8(e) & 0xFFFF) << k;
    }
    return m;
}
static inline __m128i equal_u16(const uint16_t *p, const uint16_t *t, Py_ssize_t i) {
    __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
    __m128i a1 = _mm_loadu_si128((const __m128i *)(p + i - 1));
    __m128i b = _mm_loadu_si128((const __m128i *)(t + i));
    __m128i b1 = _mm_loadu_si128((const __m128i *)(t + i - 1));
    return _mm_and_si128(_mm_cmpeq_epi16(a, a1), _mm_cmpeq_epi16(b, b1));
}
static inline uint64_t change_mask_u16(const uint16_t *p, const uint16_t *t, Py_ssize_t i) {
    uint64_t m = 0;
    for (int k = 0; k < 64; k += 16) {
        /* lanes are all-ones or zero: the signed saturating pack keeps them (-1 or 0) */
        __m128i e = _mm_packs_epi16(equal_u16(p, t, i + k), equal_u16(p, t, i + k + 8));
        m |= (uint64_t)(~_mm_movemask_epi8(e) & 0xFFFF) << k;
    }
    return m;
}
static inline __m128i equal_i32(const int32_t *p, const int32_t *t, Py_ssize_t i) {
    __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
    __m128i a1 = _mm_loadu_si128((const __m128i *)(p + i - 1));
    __m128i b = _mm_loadu_si128((const __m128i *)(t + i));
    __m128i b1 = _mm_loadu_si128((const __m128i *)(t + i - 1));
    return _mm_and_si128(_mm_cmpeq_epi32(a, a1), _mm_cmpeq_epi32(b, b1));
}
static inline uint64_t change_mask_i32(const int32_t *p, const int32_t *t, Py_ssize_t i) {
    uint64_t m = 0;
    for (int k = 0; k < 64; k += 16) {
        __m128i lo = _mm_packs_epi32(equal_i32(p, t, i + k), equal_i32(p, t, i + k + 4));
        __m128i hi = _mm_packs_epi32(equal_i32(p, t, i + k + 8), equal_i32(p, t, i + k + 12));
        m |= (uint64_t)(~_mm_movemask_epi8(_mm_packs_epi16(lo, hi)) & 0xFFFF) << k;
    }
    return m;
}

/* The pass for one type with a change mask: the run starts of 64 pixels are found at once and
 * visited by their set bits, with no loop per run that must guess where the run ends (on W5,
 * uint16, the pass took about a fifth less time than with run_end_u16). Each run, from the pixel
 * `a` to the next start `b`, is added once to the packed-key table. */
#define PAIR_MASK_PASS(NAME, T, MASK)                                                          \
    static int NAME(const T *p, const T *t, Py_ssize_t n, int has_ignore, uint64_t ignore,     \
                    pair_table *tb, key_table *kt, int64_t *counted) {                         \
        int64_t total = 0;                                                                     \
        Py_ssize_t a = 0, i = 1;                                                               \
        (void)tb;                                                                              \
        if (n == 0) return 0;                                                                  \
        for (; i + 64 <= n; i += 64) {                                                         \
            uint64_t m = MASK(p, t, i);                                                        \
            while (m) {                                                                        \
                Py_ssize_t b = i + __builtin_ctzll(m);                                         \
                m &= m - 1;                                                                    \
                PAIR_ADD_RUN(1, a, b);                                                         \
                a = b;                                                                         \
            }                                                                                  \
        }                                                                                      \
        for (; i < n; i++) {                                                                   \
            if (p[i] != p[i - 1] || t[i] != t[i - 1]) {                                        \
                PAIR_ADD_RUN(1, a, i);                                                         \
                a = i;                                                                         \
            }                                                                                  \
        }                                                                                      \
        PAIR_ADD_RUN(1, a, n);                                                                 \
        *counted = total;                                                                      \
        return 0;                                                                              \
    }

PAIR_MASK_PASS(pairs_u8_u8, uint8_t, change_mask_u8)
PAIR_MASK_PASS(pairs_u16_u16, uint16_t, change_mask_u16)
PAIR_MASK_PASS(pairs_i32_i32, int32_t, change_mask_i32)
#else
PAIR_PASS(pairs_u8_u8, uint8_t, run_end_u8, 1)
PAIR_PASS(pairs_u16_u16, uint16_t, run_end_u16, 1)
PAIR_PASS(pairs_i32_i32, int32_t, run_end_i32, 1)
#endif

/* Any two types (one pixel at a time, ids read through load_id), into the (pred, target) table. */
static int pairs_any(const void *pb, int ptype, const void *tb_, int ttype, Py_ssize_t n,
                     int has_ignore, uint64_t ignore, pair_table *tb, int64_t *counted) {
    if (n == 0) return 0;
    uint64_t cp = load_id(pb, ptype, 0), ct = load_id(tb_, ttype, 0);
    int64_t run = 0, total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t vp = load_id(pb, ptype, i), vt = load_id(tb_, ttype, i);
        if (vp == cp && vt == ct) {
            run++;
            continue;
        }
        if (!(has_ignore && ct == ignore)) {
            if (pair_table_add_cached(tb, cp, ct, run) < 0) return -1;
            total += run;
        }
        cp = vp;
        ct = vt;
        run = 1;
    }
    if (!(has_ignore && ct == ignore)) {
        if (pair_table_add_cached(tb, cp, ct, run) < 0) return -1;
        total += run;
    }
    *counted = total;
    return 0;
}

/* Count the pairs of one image of n pixels into tb or kt (both empty on entry); *counted = its
 * pixels whose target is not the ignore id. Both maps of one of the common types take a
 * specialised pass. Returns -1 when memory ran out, else 1 when the pairs are in kt, 0 in tb. */
static int count_image_pairs(const void *p, int ptype, const void *t, int ttype, Py_ssize_t n,
                             int has_ignore, uint64_t ignore, pair_table *tb, key_table *kt,
                             int64_t *counted) {
    int failed;
    *counted = 0;
    if (ptype == T_U8 && ttype == T_U8)
        failed = pairs_u8_u8(p, t, n, has_ignore, ignore, tb, kt, counted);
    else if (ptype == T_U16 && ttype == T_U16)
        failed = pairs_u16_u16(p, t, n, has_ignore, ignore, tb, kt, counted);
    else if (ptype == T_I32 && ttype == T_I32)
        failed = pairs_i32_i32(p, t, n, has_ignore, ignore, tb, kt, counted);
    else if (ptype == T_I64 && ttype == T_I64)
        return pairs_i64_i64(p, t, n, has_ignore, ignore, tb, kt, counted);
    else
        return pairs_any(p, ptype, t, ttype, n, has_ignore, ignore, tb, counted);
    return failed < 0 ? -1 : 1;
}

/* Empty the table for the next image, keeping its capacity (every cached slot becomes stale). */
static void pair_table_clear(pair_table *tb) {
    memset(tb->c, 0, tb->cap * sizeof(int64_t));
    tb->used = 0;
    tb->generation++;
}

typedef struct {
    uint64_t p, t;
    int64_t c;
} pair_entry;

static int by_pred_cmp(const void *a, const void *b) {
    const pair_entry *x = (const pair_entry *)a, *y = (const pair_entry *)b;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return 0;
}

static int by_target_cmp(const void *a, const void *b) {
    const pair_entry *x = (const pair_entry *)a, *y = (const pair_entry *)b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return 0;
}

typedef struct {
    uint64_t key;
    int64_t c;
} key_entry;

/* Sort n entries by key, least significant byte first: one counting pass per byte that is not
 * the same in every key (packed 16-bit ids: 4 passes), O(n) with no bad case. tmp holds n
 * entries; the result is in a. */
static void radix_sort(key_entry *a, key_entry *tmp, size_t n) {
    uint64_t any = 0, all = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        any |= a[i].key;
        all &= a[i].key;
    }
    key_entry *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        if ((((any ^ all) >> shift) & 0xFF) == 0) continue;
        size_t start[256] = {0};
        for (size_t i = 0; i < n; i++) start[(src[i].key >> shift) & 0xFF]++;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = start[d];
            start[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[start[(src[i].key >> shift) & 0xFF]++] = src[i];
        key_entry *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != a) memcpy(a, src, n * sizeof(key_entry));
}

/* Grow the buffer *buf of `size`-byte items to hold `need` items (its capacity *cap doubles);
 * -1 when memory ran out (the buffer is then left as it was). */
static int reserve(void **buf, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) {
        if (c > SIZE_MAX / 2 / size) return -1;
        c *= 2;
    }
    void *grown = realloc(*buf, c * size);
    if (grown == NULL) return -1;
    *buf = grown;
    *cap = c;
    return 0;
}

/* Make the typed buffer PTR (capacity CAP) hold NEED items, or return -1 from the caller. */
#define RESERVE(PTR, CAP, NEED)                                                                \
    do {                                                                                       \
        void *grown_ = (PTR);                                                                  \
        if (reserve(&grown_, &(CAP), (NEED), sizeof *(PTR)) < 0) return -1;                    \
        (PTR) = grown_;                                                                        \
    } while (0)

/* One thread's share of a batch: images row0..row1, their tables appended to `buf`. */
typedef struct {
    const char *p, *t;
    Py_ssize_t row0, row1, cols;
    int ptype, ttype, has_ignore;
    uint64_t ignore;
    int64_t *out; /* (rows, 4): predicted objects, target objects, pairs, pixels counted */
    int64_t *buf; /* the tables, int64 */
    size_t len, cap;
    /* scratch of one image: its pairs by (pred, target) and by (target, pred) */
    pair_entry *by_pred, *by_target;
    key_entry *keys, *tmp;
    size_t pred_cap, target_cap, key_cap, tmp_cap;
    int failed; /* memory allocation failed */
} pair_task;

/* Put one image's m pairs into by_pred (sorted by (pred, target)) and by_target (sorted by
 * (target, pred)). Packed keys (pred << 32 | target) are radix-sorted, and once more with the
 * halves swapped; pairs of the (pred, target) table are sorted with qsort. */
static int sort_pairs(pair_task *k, const pair_table *tb, const key_table *kt, int keyed,
                      size_t m) {
    if (m == 0) return 0; /* (no buffer may exist yet) */
    RESERVE(k->by_pred, k->pred_cap, m);
    RESERVE(k->by_target, k->target_cap, m);
    if (!keyed) {
        size_t j = 0;
        for (size_t i = 0; i < tb->cap; i++) {
            if (tb->c[i] > 0) {
                k->by_pred[j].p = tb->p[i];
                k->by_pred[j].t = tb->t[i];
                k->by_pred[j].c = tb->c[i];
                j++;
            }
        }
        memcpy(k->by_target, k->by_pred, m * sizeof(pair_entry));
        qsort(k->by_pred, m, sizeof(pair_entry), by_pred_cmp);
        qsort(k->by_target, m, sizeof(pair_entry), by_target_cmp);
        return 0;
    }
    RESERVE(k->keys, k->key_cap, m);
    RESERVE(k->tmp, k->tmp_cap, m);
    size_t j = 0;
    for (size_t i = 0; i < kt->cap; i++) {
        if (kt->c[i] > 0) {
            k->keys[j].key = kt->key[i];
            k->keys[j].c = kt->c[i];
            j++;
        }
    }
    radix_sort(k->keys, k->tmp, m);
    for (size_t i = 0; i < m; i++) {
        k->by_pred[i].p = k->keys[i].key >> 32;
        k->by_pred[i].t = k->keys[i].key & 0xFFFFFFFFu;
        k->by_pred[i].c = k->keys[i].c;
        k->keys[i].key = k->keys[i].key << 32 | k->keys[i].key >> 32;
    }
    radix_sort(k->keys, k->tmp, m);
    for (size_t i = 0; i < m; i++) {
        k->by_target[i].t = k->keys[i].key >> 32;
        k->by_target[i].p = k->keys[i].key & 0xFFFFFFFFu;
        k->by_target[i].c = k->keys[i].c;
    }
    return 0;
}

/* Append one image's table (from its m sorted pairs, background 0 included) to the task's
 * buffer as int64: pred_ids, pred_areas (P each), target_ids, target_areas (G), pair_pred,
 * pair_target, pair_intersection (K: the pairs of two objects, by (pred, target); indices into
 * the id lists). An area sums its object's row or column of pairs, background included, as
 * overlap_table defines it. sizes = (P, G, K). */
static int append_table(pair_task *k, size_t m, int64_t sizes[3]) {
    const pair_entry *bp = k->by_pred, *bt = k->by_target;
    size_t np = 0, ng = 0, nk = 0;
    sizes[0] = sizes[1] = sizes[2] = 0;
    if (m == 0) return 0; /* (no buffer may exist yet) */
    for (size_t i = 0; i < m; i++) {
        np += bp[i].p != 0 && (i == 0 || bp[i].p != bp[i - 1].p);
        ng += bt[i].t != 0 && (i == 0 || bt[i].t != bt[i - 1].t);
        nk += bp[i].p != 0 && bp[i].t != 0;
    }
    RESERVE(k->buf, k->cap, k->len + 2 * np + 2 * ng + 3 * nk);
    int64_t *pid = k->buf + k->len, *parea = pid + np, *tid = parea + np, *tarea = tid + ng;
    int64_t *kp = tarea + ng, *kg = kp + nk, *ki = kg + nk;
    size_t a = 0;
    for (size_t i = 0; i < m; i++) { /* objects: ids < 2**63 (the kernel reads at most int64) */
        if (bp[i].p == 0) continue;
        if (i == 0 || bp[i].p != bp[i - 1].p) {
            pid[a] = (int64_t)bp[i].p;
            parea[a++] = 0;
        }
        parea[a - 1] += bp[i].c;
    }
    a = 0;
    for (size_t i = 0; i < m; i++) {
        if (bt[i].t == 0) continue;
        if (i == 0 || bt[i].t != bt[i - 1].t) {
            tid[a] = (int64_t)bt[i].t;
            tarea[a++] = 0;
        }
        tarea[a - 1] += bt[i].c;
    }
    int64_t pi = -1;
    a = 0;
    for (size_t i = 0; i < m; i++) {
        if (bp[i].p == 0) continue;
        if (i == 0 || bp[i].p != bp[i - 1].p) pi++;
        if (bp[i].t == 0) continue;
        size_t lo = 0, hi = ng; /* the target's index: binary search of the sorted ids */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((uint64_t)tid[mid] < bp[i].t)
                lo = mid + 1;
            else
                hi = mid;
        }
        kp[a] = pi;
        kg[a] = (int64_t)lo;
        ki[a++] = bp[i].c;
    }
    k->len += 2 * np + 2 * ng + 3 * nk;
    sizes[0] = (int64_t)np;
    sizes[1] = (int64_t)ng;
    sizes[2] = (int64_t)nk;
    return 0;
}

static void pair_task_run(void *arg) {
    pair_task *k = (pair_task *)arg;
    pair_table tb;
    key_table kt;
    if (k->row0 >= k->row1) return;
    int ok = pair_table_init(&tb, 1024) == 0;
    ok &= key_table_init(&kt, 10) == 0;
    Py_ssize_t psize = type_size[k->ptype], tsize = type_size[k->ttype];
    for (Py_ssize_t r = k->row0; ok && r < k->row1; r++) {
        int64_t counted = 0, *sizes = k->out + 4 * r;
        int keyed = count_image_pairs(k->p + r * k->cols * psize, k->ptype,
                                      k->t + r * k->cols * tsize, k->ttype, k->cols,
                                      k->has_ignore, k->ignore, &tb, &kt, &counted);
        size_t m = keyed > 0 ? kt.used : tb.used;
        if (keyed < 0 || sort_pairs(k, &tb, &kt, keyed, m) < 0 || append_table(k, m, sizes) < 0) {
            ok = 0;
            break;
        }
        sizes[3] = counted;
        if (keyed)
            key_table_clear(&kt);
        else
            pair_table_clear(&tb);
    }
    k->failed = !ok;
    pair_table_free(&tb);
    key_table_free(&kt);
}

/* overlap_tables(pred, target, rows, cols, ptype, ttype, ignore, has_ignore, out, nthreads)
 *     -> bytearray
 * The overlap tables of `rows` images of `cols` pixels (segscore.metrics.instance.table): for
 * each image in turn, int64 pred_ids, pred_areas, target_ids, target_areas, pair_pred,
 * pair_target, pair_intersection (see append_table), pixels whose target is the ignore id left
 * out. out is int64 (rows, 4): the image's predicted objects P, target objects G, pairs K and
 * pixels counted. The images are split over the threads in contiguous ranges; each thread counts
 * its images one after the other into one hash table (emptied between images), sorts each
 * image's pairs, and appends its table to its own buffer; the buffers are joined in order. */
static PyObject *py_overlap_tables(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *po, *to, *oo;
    Py_ssize_t rows, cols;
    int ptype, ttype, has_ignore;
    unsigned long long ignore;
    long nthreads;
    if (!PyArg_ParseTuple(args, "OOnniiKpOl", &po, &to, &rows, &cols, &ptype, &ttype, &ignore,
                          &has_ignore, &oo, &nthreads))
        return NULL;
    if (ptype < 0 || ptype >= N_TYPES || ttype < 0 || ttype >= N_TYPES) {
        PyErr_SetString(PyExc_ValueError, "`ptype` or `ttype` is out of range.");
        return NULL;
    }
    if (check_shape(rows, cols) < 0) return NULL;
    Py_buffer pv, tv, ov;
    if (get_buffer(po, &pv, 0, rows * cols * type_size[ptype], "pred") < 0) return NULL;
    if (get_buffer(to, &tv, 0, rows * cols * type_size[ttype], "target") < 0) {
        PyBuffer_Release(&pv);
        return NULL;
    }
    if (get_buffer(oo, &ov, 1, 4 * rows * (Py_ssize_t)sizeof(int64_t), "out") < 0) {
        PyBuffer_Release(&pv);
        PyBuffer_Release(&tv);
        return NULL;
    }
    int n = clamp_threads(nthreads, rows);
    pair_task tasks[MAX_THREADS];
    memset(tasks, 0, sizeof tasks);
    for (int i = 0; i < n; i++) {
        tasks[i].p = (const char *)pv.buf;
        tasks[i].t = (const char *)tv.buf;
        tasks[i].row0 = rows * i / n;
        tasks[i].row1 = rows * (i + 1) / n;
        tasks[i].cols = cols;
        tasks[i].ptype = ptype;
        tasks[i].ttype = ttype;
        tasks[i].has_ignore = has_ignore;
        tasks[i].ignore = (uint64_t)ignore;
        tasks[i].out = (int64_t *)ov.buf;
    }
    Py_BEGIN_ALLOW_THREADS
    run_tasks(pair_task_run, (char *)tasks, sizeof(pair_task), n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&pv);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    PyObject *out = NULL;
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        failed |= tasks[i].failed;
        total += tasks[i].len;
    }
    if (failed || total > (size_t)PY_SSIZE_T_MAX / sizeof(int64_t)) {
        PyErr_NoMemory();
    } else {
        /* a bytearray: the caller's arrays are views of it, writable as numpy's own */
        out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(total * sizeof(int64_t)));
        if (out != NULL) {
            char *at = PyByteArray_AS_STRING(out);
            for (int i = 0; i < n; i++) {
                if (tasks[i].len) memcpy(at, tasks[i].buf, tasks[i].len * sizeof(int64_t));
                at += tasks[i].len * sizeof(int64_t);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        free(tasks[i].buf);
        free(tasks[i].by_pred);
        free(tasks[i].by_target);
        free(tasks[i].keys);
        free(tasks[i].tmp);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"mask_values", py_mask_values, METH_VARARGS,
     "mask_values(buffer) -> 0 for bytes in {0, 1}, 1 for {0, 255}, 2 otherwise."},
    {"binary_counts", py_binary_counts, METH_VARARGS,
     "binary_counts(pred, target, rows, cols, out, nthreads, check=False): per-row tp, predicted, "
     "support; with check, (pred_code, target_code) of the byte values (see mask_values)."},
    {"png_binary_counts", py_png_binary_counts, METH_VARARGS,
     "png_binary_counts(pred_scanlines, target_scanlines, width, height, out) -> (pred_code, "
     "target_code), or None for a bad filter type: two inflated 8-bit grayscale PNGs counted as "
     "binary_counts(..., check=True) counts their images; out: tp, predicted, support."},
    {"confusion_matrix", py_confusion_matrix, METH_VARARGS,
     "confusion_matrix(pred, target, rows, cols, ptype, ttype, C, ignore, has_ignore, out, "
     "nthreads, chunk) -> pixels with an invalid target or prediction label."},
    {"class_counts", py_class_counts, METH_VARARGS,
     "class_counts(pred, target, rows, cols, ptype, ttype, C, ignore, has_ignore, out, "
     "nthreads, chunk) -> positive when a target or prediction label is invalid; out is int64 "
     "(rows, 3, C): tp, predicted, support per class."},
    {"nearest_offsets", py_nearest_offsets, METH_VARARGS,
     "nearest_offsets(grid, sources, offsets, out, nthreads): per source, the index of the "
     "first offset landing on a nonzero byte of grid, or -1."},
    {"overlap_tables", py_overlap_tables, METH_VARARGS,
     "overlap_tables(pred, target, rows, cols, ptype, ttype, ignore, has_ignore, out, nthreads) "
     "-> bytearray of int64: the overlap table of each image (ids, areas, pairs); out (rows, 4) "
     "int64: objects, pairs and pixels counted per image."},
    {"label_components", py_label_components, METH_VARARGS,
     "label_components(mask, depth, height, width, full, out) -> n: connected components of a "
     "1-byte mask into uint32 out, numbered in raster order of their first voxel."},
    {"cpu_count", py_cpu_count, METH_NOARGS, "Online CPUs (1 where threads are not built)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernel", "Fused exact counting kernels of segscore.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ckernel(void) { return PyModule_Create(&module); }
