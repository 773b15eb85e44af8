"""Cut the DSB2018 nuclei sample into the built-in "nuclei" dataset of segscore.

Reads ``img2d.tif`` and ``mask2d.tif`` (512×512 uint16) from the shared data folder and writes 16
tiles of 128×128 (a 4×4 grid, no overlap) to ``src/segscore/data/builtin/nuclei``:

- ``images/nuclei_RC.png``: 8-bit gray PNG. The uint16 source values lie in 0–235, so they are
  stored *unchanged* as uint8 (lossless). ``to_unit_range`` then scales them by the declared 8-bit
  range, value / 255: the tiles keep the source's absolute intensities. (Kept as 16-bit, the
  declared range 0–65535 would squash them to at most 0.0036.)
- ``masks/nuclei_RC.png``: 8-bit {0, 255}, foreground = instance label > 0.
- ``SOURCE.md`` (attribution) and ``LICENSE-stardist.txt`` (the licence text, copied).

Run once from the repository root; the outputs are committed and the package never reads the
shared folder:

    .venv/bin/python scripts/make_nuclei_tiles.py [--source /work/shared/data/dsb2018-nuclei]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

TILE = 128
OUT = Path(__file__).resolve().parents[1] / "src" / "segscore" / "data" / "builtin" / "nuclei"

SOURCE_MD = """\
# Built-in dataset "nuclei"

16 tiles of 128×128 pixels (a 4×4 grid without overlap) cut from one 512×512 fluorescence
microscopy image of cell nuclei and its instance mask, by `scripts/make_nuclei_tiles.py`.
Tile `nuclei_RC` covers rows `128*R` to `128*R+127` and columns `128*C` to `128*C+127`.

- `images/*.png`: 8-bit gray. The source image is uint16 with values 0–{vmax}; they are stored
  unchanged as uint8 (lossless), so segscore scales them by the declared 8-bit range (value / 255).
- `masks/*.png`: 8-bit, 0 = background, 255 = nucleus (source instance label > 0).
  Foreground: {fg:.1%} of all pixels.

## Origin and attribution

The image comes from the 2018 Data Science Bowl:
J. C. Caicedo et al., "Nucleus segmentation across imaging experiments: the 2018 Data Science
Bowl", *Nature Methods* 16, 1247–1253 (2019), doi:10.1038/s41592-019-0612-7; image set BBBC038v1
of the Broad Bioimage Benchmark Collection (https://bbbc.broadinstitute.org/BBBC038).

The two source files (`img2d.tif`, `mask2d.tif`) are those shipped inside the PyPI wheel
`stardist==0.9.2` as `stardist/data/images/`. The stardist package is distributed under the
BSD-3-Clause licence, whose text is copied in `LICENSE-stardist.txt` next to this file.
"""


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
    for r in range(4):
        for c in range(4):
            window = np.s_[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE]
            name = f"nuclei_{r}{c}.png"
            Image.fromarray(image[window].astype(np.uint8)).save(
                OUT / "images" / name, optimize=True
            )
            mask = (labels[window] > 0).astype(np.uint8) * np.uint8(255)
            Image.fromarray(mask).save(OUT / "masks" / name, optimize=True)
    fg = float((labels > 0).mean())
    (OUT / "SOURCE.md").write_text(SOURCE_MD.format(vmax=vmax, fg=fg), encoding="utf-8")
    shutil.copyfile(args.source / "STARDIST-LICENSE.txt", OUT / "LICENSE-stardist.txt")
    print(f"wrote 16 tiles to {OUT} (values 0–{vmax}, foreground {fg:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
