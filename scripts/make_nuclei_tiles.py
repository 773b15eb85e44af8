"""Cut the DSB2018 nuclei sample into the built-in "nuclei" dataset of segscore.

Reads ``img2d.tif`` and ``mask2d.tif`` (512×512 uint16; the mask gives every nucleus its own id)
from the shared data folder and writes 16 tiles of 128×128 (a 4×4 grid, no overlap) to
``src/segscore/data/builtin/nuclei``:

- ``images/nuclei_RC.png``: 8-bit gray PNG. The uint16 source values lie in 0–235, so they are
  stored *unchanged* as uint8 (lossless). ``to_unit_range`` then scales them by the declared 8-bit
  range, value / 255: the tiles keep the source's absolute intensities. (Kept as 16-bit, the
  declared range 0–65535 would squash them to at most 0.0036.)
- ``masks/nuclei_RC.png``: 16-bit gray instance label map, 0 = background. The source ids are
  renumbered ``1..n`` per tile, in the order in which the nuclei first appear in a row-by-row
  scan of the tile; a nucleus cut by the tile border keeps one id for the part inside the tile
  (even when that part falls apart into pieces). The foreground (id > 0) is exactly the
  source's ``mask > 0``.
- ``SOURCE.md`` (attribution, how the tiles were cut) and ``LICENSE-stardist.txt`` (the licence
  text, copied).

Run once from the repository root; the outputs are committed and the package never reads the
shared folder:

    .venv/bin/python scripts/make_nuclei_tiles.py [--source /work/shared/data/dsb2018-nuclei]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

TILE = 128
OUT = Path(__file__).resolve().parents[1] / "src" / "segscore" / "data" / "builtin" / "nuclei"

SOURCE_MD = """\
# Built-in dataset "nuclei"

16 tiles of 128×128 pixels (a 4×4 grid without overlap) cut from one 512×512 fluorescence
microscopy image of cell nuclei and its instance mask, by `scripts/make_nuclei_tiles.py`.
Tile `nuclei_RC` covers rows `128*R` to `128*R+127` and columns `128*C` to `128*C+127`.

- `images/*.png`: 8-bit gray. The source image is uint16 with values 0–{vmax}; they are stored
  unchanged as uint8 (lossless), so segscore scales them by the declared 8-bit range (value / 255).
- `masks/*.png`: 16-bit gray **instance label maps**: 0 = background, one id per nucleus. The
  source's ids ({n_source} nuclei, ids up to {max_source}) are renumbered `1..n` per tile, in the
  order in which the nuclei first appear in a row-by-row scan of the tile. A nucleus cut by a
  tile border keeps one id for its part inside each tile ({n_cut} nuclei cross a border; in
  {n_pieces} tile such a part falls apart into separate pieces and still has one id).
  {n_objects} objects in the 16 tiles, {min_per_tile}–{max_per_tile} per tile, {n_touching} of
  which touch another object (4-neighbours). The foreground (id > 0) is exactly the source's
  `mask > 0`: {fg:.1%} of all pixels.
- Reading: `segscore.data.load_dataset("nuclei")` gives the binary foreground as `masks` (what
  training and pixel scores use) and the ids as `instances`; `segscore.io.read_instances`
  reads one file's ids, `segscore.io.read_mask(path, layout="instances")` its foreground.

## Origin and attribution

The image comes from the 2018 Data Science Bowl:
J. C. Caicedo et al., "Nucleus segmentation across imaging experiments: the 2018 Data Science
Bowl", *Nature Methods* 16, 1247–1253 (2019), doi:10.1038/s41592-019-0612-7; image set BBBC038v1
of the Broad Bioimage Benchmark Collection (https://bbbc.broadinstitute.org/BBBC038).

The two source files (`img2d.tif`, `mask2d.tif`) are those shipped inside the PyPI wheel
`stardist==0.9.2` as `stardist/data/images/`. The stardist package is distributed under the
BSD-3-Clause licence, whose text is copied in `LICENSE-stardist.txt` next to this file.
"""


def renumber_scan_order(labels: NDArray[np.integer]) -> NDArray[np.uint16]:
    """Give the objects of a label map the ids ``1..n`` in order of first appearance (row scan)."""
    flat = labels.ravel()
    ids, first = np.unique(flat, return_index=True)
    keep = ids != 0
    ids, first = ids[keep], first[keep]
    order = ids[np.argsort(first)]
    lut = np.zeros(int(labels.max()) + 1, np.uint16)
    lut[order] = np.arange(1, order.size + 1, dtype=np.uint16)
    out: NDArray[np.uint16] = lut[labels]
    return out


def touching(labels: NDArray[np.integer]) -> int:
    """Count the objects that share a 4-neighbour edge with another object."""
    ids: set[int] = set()
    for a, b in (
        (labels[1:, :], labels[:-1, :]),
        (labels[:, 1:], labels[:, :-1]),
    ):
        edge = (a != b) & (a > 0) & (b > 0)
        ids.update(np.unique(a[edge]).tolist())
        ids.update(np.unique(b[edge]).tolist())
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data/dsb2018-nuclei"))
    args = parser.parse_args(argv)
    image = np.asarray(Image.open(args.source / "img2d.tif"))
    labels = np.asarray(Image.open(args.source / "mask2d.tif"))
    assert image.shape == labels.shape == (4 * TILE, 4 * TILE), (image.shape, labels.shape)
    vmax = int(image.max())
    assert int(image.min()) >= 0, "values must be non-negative"
    assert vmax <= 255, "values must fit 8 bits to be stored losslessly"
    for sub in ("images", "masks"):
        shutil.rmtree(OUT / sub, ignore_errors=True)
        (OUT / sub).mkdir(parents=True)
    per_tile: list[int] = []
    n_touching = n_pieces = 0
    for r in range(4):
        for c in range(4):
            window = np.s_[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE]
            name = f"nuclei_{r}{c}.png"
            Image.fromarray(image[window].astype(np.uint8)).save(
                OUT / "images" / name, optimize=True
            )
            tile = renumber_scan_order(labels[window])
            assert np.array_equal(tile > 0, labels[window] > 0)
            n = int(tile.max())
            assert np.array_equal(np.unique(tile), np.arange(n + 1))
            per_tile.append(n)
            n_touching += touching(tile)
            pieces = [ndimage.label(tile == i)[1] for i in range(1, n + 1)]
            n_pieces += any(k > 1 for k in pieces)
            Image.fromarray(tile).save(OUT / "masks" / name, optimize=True)  # mode I;16
    source_ids = np.unique(labels[labels > 0])
    tiles_per_id = np.zeros(int(source_ids.max()) + 1, np.int64)
    for r in range(4):
        for c in range(4):
            window = np.s_[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE]
            tiles_per_id[np.unique(labels[window])] += 1
    n_cut = int((tiles_per_id[source_ids] > 1).sum())  # nuclei that cross a tile border
    fg = float((labels > 0).mean())
    text = SOURCE_MD.format(
        vmax=vmax,
        fg=fg,
        n_source=int(source_ids.size),
        max_source=int(source_ids.max()),
        n_objects=sum(per_tile),
        min_per_tile=min(per_tile),
        max_per_tile=max(per_tile),
        n_touching=n_touching,
        n_cut=n_cut,
        n_pieces=n_pieces,
    )
    (OUT / "SOURCE.md").write_text(text, encoding="utf-8")
    shutil.copyfile(args.source / "STARDIST-LICENSE.txt", OUT / "LICENSE-stardist.txt")
    print(
        f"wrote 16 tiles to {OUT} (values 0–{vmax}, foreground {fg:.1%}, "
        f"{sum(per_tile)} objects, {n_touching} touching)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
