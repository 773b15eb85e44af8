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

#include "_png_unfilter.h"

static int unfilter(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, Py_ssize_t w,
                    Py_ssize_t h) {
    const uint8_t *up = zeros;
    for (Py_ssize_t y = 0; y < h; y++) {
        const uint8_t *line = raw + y * (w + 1);
        uint8_t *dst = out + y * w;
        if (!png_unfilter_line(line[0], line + 1, up, dst, w)) return 0;
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
