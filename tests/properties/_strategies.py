"""Hypothesis strategies: small batches of label maps, 2-D or 3-D, with an optional ignore label."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

IGNORE = 255


@st.composite
def label_maps(draw, *, ignore: bool | None = None, min_classes: int = 1, max_classes: int = 6):
    """Return (pred, target, num_classes, ignore_index) with shape (N, *S), S 2-D or 3-D."""
    c = draw(st.integers(min_classes, max_classes))
    spatial = draw(st.sampled_from([(2,), (3,)]))[0]
    shape = (draw(st.integers(1, 3)), *draw(st.tuples(*[st.integers(1, 5)] * spatial)))
    dtype = draw(st.sampled_from([np.uint8, np.int16, np.int64]))
    use_ignore = draw(st.booleans()) if ignore is None else ignore
    top = c if not use_ignore else c + 1  # label c stands for the ignore label, mapped below
    elems = st.integers(0, top - 1)
    pred = draw(arrays(np.int64, shape, elements=elems))
    target = draw(arrays(np.int64, shape, elements=elems))
    if use_ignore:
        pred = np.where(pred == c, IGNORE, pred)
        target = np.where(target == c, IGNORE, target)
    return pred.astype(dtype), target.astype(dtype), c, IGNORE if use_ignore else None


@st.composite
def binary_masks(draw):
    spatial = draw(st.sampled_from([2, 3]))
    shape = (draw(st.integers(1, 3)), *draw(st.tuples(*[st.integers(1, 5)] * spatial)))
    pred = draw(arrays(np.bool_, shape))
    target = draw(arrays(np.bool_, shape))
    return pred, target


def reference_counts(pred, target, num_classes, ignore_index):
    """tp, fp, fn, tn per image and class straight from np.bincount, independent of segscore."""
    n = pred.shape[0]
    p = pred.reshape(n, -1).astype(np.int64)
    t = target.reshape(n, -1).astype(np.int64)
    out = np.zeros((4, n, num_classes), np.int64)
    for i in range(n):
        keep = np.ones(t.shape[1], bool) if ignore_index is None else t[i] != ignore_index
        ti, pi = t[i][keep], p[i][keep]
        pi = np.where((pi < 0) | (pi >= num_classes), num_classes, pi)
        m = np.bincount(ti * (num_classes + 1) + pi, minlength=num_classes * (num_classes + 1))
        m = m.reshape(num_classes, num_classes + 1)
        tp = np.diag(m[:, :num_classes])
        fp = m[:, :num_classes].sum(axis=0) - tp
        fn = m.sum(axis=1) - tp
        out[:, i] = tp, fp, fn, keep.sum() - tp - fp - fn
    return out
