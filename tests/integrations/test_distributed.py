"""Two processes on the gloo backend (CPU): the synced counts equal the one-process counts, bit for bit.

One spawn runs every distributed check (spawning is the slow part): `sync_counts` from Counts, an
Evaluator and a TensorEvaluator with unequal shares and an empty rank, the torchmetrics adapter,
and ranks that disagree on the number of classes.
"""

from __future__ import annotations

import os
import pickle
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import segscore

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")

WORLD = 2
SHARES = (3, 5)  # images per rank: unequal on purpose
FIELDS = ("tp", "fp", "fn", "tn")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    p = rng.integers(0, 3, (sum(SHARES), 6, 7)).astype(np.int64)
    t = rng.integers(0, 3, (sum(SHARES), 6, 7)).astype(np.int64)
    t[:, :, 0] = 255
    return p, t


def _objects() -> tuple[np.ndarray, np.ndarray]:
    """Instance label maps: components of random masks, the prediction a shifted copy."""
    rng = np.random.default_rng(12)
    t = segscore.label_components(rng.random((sum(SHARES), 16, 18)) < 0.4)
    p = segscore.label_components(np.roll(t > 0, 1, axis=2) & (rng.random(t.shape) < 0.95))
    return p, t


OBJECT_METRICS = ["f1@0.5", "dsb@0.5:0.95", "pq", "aji", "aji+"]


def _share(rank: int) -> slice:
    start = sum(SHARES[:rank])
    return slice(start, start + SHARES[rank])


def _worker(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    from segscore.errors import InputError
    from segscore.integrations.distributed import sync_counts
    from segscore.integrations.torch import TensorEvaluator
    from segscore.integrations.torchmetrics import SegscoreMetric, SegscoreObjectMetric

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD
    )
    try:
        p, t = _data()
        p, t = p[_share(rank)], t[_share(rank)]
        opts = {"num_classes": 3, "ignore_index": 255}
        result: dict[str, Any] = {}
        result["from_counts"] = sync_counts(segscore.confusion(p, t, **opts))
        ev = segscore.Evaluator(**opts)
        ev.update(p[:1], t[:1])
        ev.update(p[1:], t[1:])
        result["from_evaluator"] = sync_counts(ev)
        tev = TensorEvaluator(**opts)
        for i in range(len(p)):  # one image per update
            tev.update(torch.from_numpy(p[i : i + 1]), torch.from_numpy(t[i : i + 1]))
        result["from_tensor"] = sync_counts(tev)
        if rank == 1:
            tev.reset()  # rank 1 has no rows
        result["empty_rank"] = sync_counts(tev)

        metric = SegscoreMetric("iou", aggregation="images_then_classes", **opts)
        metric.update(torch.from_numpy(p[:2]), torch.from_numpy(t[:2]))
        metric.update(torch.from_numpy(p[2:]), torch.from_numpy(t[2:]))
        result["metric_value"] = float(metric.compute())
        result["metric_score"] = metric.score
        result["metric_counts"] = metric.counts
        lonely = SegscoreMetric("iou", **opts)  # only rank 0 updates
        if rank == 0:
            lonely.update(torch.from_numpy(p), torch.from_numpy(t))
        result["lonely_counts"] = lonely.counts

        op, ot = _objects()
        op, ot = op[_share(rank)], ot[_share(rank)]
        objects = SegscoreObjectMetric("pq", metrics=OBJECT_METRICS, aggregation="pooled")
        for i in range(len(op)):
            objects.update(torch.from_numpy(op[i : i + 1]), torch.from_numpy(ot[i : i + 1]))
        result["object_value"] = float(objects.compute())
        result["object_scores"] = {k: v.per_image for k, v in objects.scores.items()}
        result["object_pooled"] = {k: v.value for k, v in objects.scores.items()}

        width = 3 if rank == 0 else 4
        try:
            sync_counts(segscore.confusion(p % width, t % width, num_classes=width))
        except InputError as exc:
            result["error"] = str(exc)
        with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as handle:
            pickle.dump(result, handle)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _same(a: segscore.Counts, b: segscore.Counts) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        assert getattr(b, f).dtype == np.int64
    assert a.spec == b.spec


def test_two_gloo_processes_sync_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.multiprocessing as mp

    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    results = [pickle.loads((tmp_path / f"rank{r}.pkl").read_bytes()) for r in range(WORLD)]

    p, t = _data()
    opts = {"num_classes": 3, "ignore_index": 255}
    want = segscore.confusion(p, t, **opts)  # one process, all images, in rank order
    want_score = segscore.score(want, "iou", aggregation="images_then_classes")
    for result in results:  # every rank holds the same, complete result
        for key in ("from_counts", "from_evaluator", "from_tensor", "metric_counts"):
            _same(want, result[key])
        _same(want.select(rows=_share(0)), result["empty_rank"])
        _same(want.select(rows=_share(0)), result["lonely_counts"])
        assert result["metric_value"] == want_score.value
        np.testing.assert_array_equal(result["metric_score"].cells, want_score.cells)
        np.testing.assert_array_equal(result["metric_score"].per_image, want_score.per_image)
        assert repr(result["metric_score"].conventions) == repr(
            want_score.conventions
        )  # NaN inside
        op, ot = _objects()
        ref = segscore.instance_scores(op, ot, OBJECT_METRICS, aggregation="pooled")
        assert result["object_value"] == ref["pq"].value
        for k, v in ref.items():
            assert result["object_pooled"][k] == v.value, k
            np.testing.assert_array_equal(result["object_scores"][k], v.per_image)
        assert result["error"] == (
            "every rank must have the same number of classes, got [3, 4] (in rank order)."
        )
