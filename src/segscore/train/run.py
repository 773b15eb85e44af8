"""The run folder: configuration, trace and checkpoint of one training run.

::

    RUN/
      checkpoint.pt   weights, optimizer and generator state, trace (after every epoch)
      config.json     the frozen TrainConfig
      trace.json      the torch thread count and one record per epoch (same seed and threads on
                      one machine: same file)
      trace.csv       the same rows as CSV
      timing.json     seconds per epoch (not part of the trace: it varies run to run)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from segscore.data.dataset import SegmentationDataset
from segscore.errors import DatasetError
from segscore.io.checkpoint import CHECKPOINT_NAME
from segscore.train.config import TrainConfig

__all__ = [
    "CHECKPOINT_NAME",
    "TRACE_COLUMNS",
    "load_config",
    "load_training_data",
    "write_run_files",
]

TRACE_COLUMNS = (
    "epoch",
    "train_loss",
    "train_accuracy",
    "train_iou",
    "train_dice",
    "val_loss",
    "val_accuracy",
    "val_iou",
    "val_dice",
)


def write_run_files(
    run_dir: str | os.PathLike[str],
    config: TrainConfig,
    history: Sequence[dict[str, float | int]],
    seconds: Sequence[float],
) -> None:
    """Write ``config.json``, ``trace.json``, ``trace.csv`` and ``timing.json`` (atomically)."""
    from segscore.io.results import atomic_write_bytes, write_csv, write_json

    d = Path(run_dir)
    atomic_write_bytes(d / "config.json", config.to_json().encode("utf-8"))
    write_json(d / "trace.json", {"threads": config.threads, "epochs": list(history)})
    write_csv(d / "trace.csv", history, TRACE_COLUMNS)
    write_json(d / "timing.json", {"seconds_per_epoch": [round(s, 3) for s in seconds]})


def load_config(run_dir: str | os.PathLike[str]) -> TrainConfig:
    """Read ``config.json`` of a run folder.

    Raises
    ------
    InputError
        If the file is missing or not a valid configuration.
    """
    from segscore.io.results import read_json_object

    values = read_json_object(Path(run_dir) / "config.json", needed_by="--resume")
    return TrainConfig.from_dict(values)


def load_training_data(config: TrainConfig) -> SegmentationDataset:
    """Load the dataset a configuration names (``synthetic``, ``nuclei`` or a folder).

    Raises
    ------
    DatasetError
        If the folder is missing, holds no pairs, or a file is bad.
    """
    from segscore.data import load_dataset

    data = load_dataset(
        config.data,
        layout=config.layout,
        num_classes=config.num_classes,
        ignore_index=config.ignore_index,
        n=config.n,
        size=config.size,
        seed=config.seed,
    )
    if len(data) == 0:
        raise DatasetError(f"dataset {config.data!r} must hold at least one image pair, got none.")
    return data
