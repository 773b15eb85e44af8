"""Built-in label sets: the class names, ignore label and colours of common benchmarks.

Pure data and one lookup, :func:`get_label_set`. Each set is the one MMSegmentation ships
(``METAINFO`` of its dataset classes, commit ``088894bd`` of open-mmlab/mmsegmentation):

- ``"voc"``: Pascal VOC 2012, ``mmseg/datasets/voc.py`` (``PascalVOCDataset``): 21 classes,
  ``background`` included as class 0; the object boundaries are label 255 (ignored). Colours:
  the VOC development kit's colour map (``VOClabelcolormap``: bits of the label spread over the
  three channels), whose entry 255 (224, 224, 192) is the boundary colour.
- ``"cityscapes"``: the 19 evaluated classes by trainId, ``mmseg/datasets/cityscapes.py``
  (``CityscapesDataset``, ``*_gtFine_labelTrainIds.png``), every other label is 255. Colours:
  ``cityscapesscripts/helpers/labels.py`` (mcordts/cityscapesScripts); the colours of the void
  and unevaluated labels (unlabeled, dynamic, ground, parking, rail track, guard rail, bridge,
  tunnel, caravan, trailer) map to 255, as their trainId does.
- ``"ade20k"``: the 150 classes of the SceneParse150 benchmark, ``mmseg/datasets/ade.py``
  (``ADE20KDataset``, whose ``'bed '`` carries a stray trailing space, dropped here). ADE20K
  files store 0 for "other" and classes as 1..150; MMSegmentation reads them with
  ``reduce_zero_label=True`` (class ``k`` becomes ``k - 1``, 0 becomes 255), so the label maps
  scored with this set hold 0..149 and 255. Colours: the ``palette`` of the same file.

Examples
--------
>>> voc = get_label_set("voc")
>>> len(voc.class_names), voc.class_names[15], voc.ignore_index, voc.colours[15]
(21, 'person', 255, (192, 128, 128))
"""

from __future__ import annotations

from dataclasses import dataclass

from segscore._validation import check_option

__all__ = ["LABEL_SETS", "LabelSet", "get_label_set"]

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class LabelSet:
    """The classes of a benchmark.

    Attributes
    ----------
    name : str
        The name :func:`get_label_set` knows it by.
    class_names : tuple of str
        One name per class id ``0 .. C-1``.
    ignore_index : int
        The label of pixels left out of the scores.
    colours : tuple of (r, g, b)
        The colour of each class in the dataset's colour masks.
    ignore_colours : tuple of (r, g, b)
        Colours that stand for the ignore label (void classes, boundaries).
    source : str
        Where the names and colours come from.
    """

    name: str
    class_names: tuple[str, ...]
    ignore_index: int
    colours: tuple[Colour, ...]
    ignore_colours: tuple[Colour, ...]
    source: str

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.class_names)


def _voc_colour(label: int) -> Colour:
    """Return the VOC development kit's colour of a label (its bits spread over r, g, b)."""
    r = g = b = 0
    for shift in range(7, -1, -1):
        r |= ((label >> 0) & 1) << shift
        g |= ((label >> 1) & 1) << shift
        b |= ((label >> 2) & 1) << shift
        label >>= 3
    return (r, g, b)


_VOC = LabelSet(
    name="voc",
    class_names=(
        "background",
        "aeroplane",
        "bicycle",
        "bird",
        "boat",
        "bottle",
        "bus",
        "car",
        "cat",
        "chair",
        "cow",
        "diningtable",
        "dog",
        "horse",
        "motorbike",
        "person",
        "pottedplant",
        "sheep",
        "sofa",
        "train",
        "tvmonitor",
    ),
    ignore_index=255,
    colours=tuple(_voc_colour(k) for k in range(21)),
    ignore_colours=(_voc_colour(255),),
    source="open-mmlab/mmsegmentation mmseg/datasets/voc.py; VOC devkit VOClabelcolormap",
)

_CITYSCAPES = LabelSet(
    name="cityscapes",
    class_names=(
        "road",
        "sidewalk",
        "building",
        "wall",
        "fence",
        "pole",
        "traffic light",
        "traffic sign",
        "vegetation",
        "terrain",
        "sky",
        "person",
        "rider",
        "car",
        "truck",
        "bus",
        "train",
        "motorcycle",
        "bicycle",
    ),
    ignore_index=255,
    colours=(
        (128, 64, 128),
        (244, 35, 232),
        (70, 70, 70),
        (102, 102, 156),
        (190, 153, 153),
        (153, 153, 153),
        (250, 170, 30),
        (220, 220, 0),
        (107, 142, 35),
        (152, 251, 152),
        (70, 130, 180),
        (220, 20, 60),
        (255, 0, 0),
        (0, 0, 142),
        (0, 0, 70),
        (0, 60, 100),
        (0, 80, 100),
        (0, 0, 230),
        (119, 11, 32),
    ),
    ignore_colours=(
        (0, 0, 0),
        (111, 74, 0),
        (81, 0, 81),
        (250, 170, 160),
        (230, 150, 140),
        (180, 165, 180),
        (150, 100, 100),
        (150, 120, 90),
        (0, 0, 90),
        (0, 0, 110),
    ),
    source="open-mmlab/mmsegmentation mmseg/datasets/cityscapes.py; "
    "mcordts/cityscapesScripts cityscapesscripts/helpers/labels.py",
)

_ADE20K = LabelSet(
    name="ade20k",
    class_names=(
        "wall",
        "building",
        "sky",
        "floor",
        "tree",
        "ceiling",
        "road",
        "bed",
        "windowpane",
        "grass",
        "cabinet",
        "sidewalk",
        "person",
        "earth",
        "door",
        "table",
        "mountain",
        "plant",
        "curtain",
        "chair",
        "car",
        "water",
        "painting",
        "sofa",
        "shelf",
        "house",
        "sea",
        "mirror",
        "rug",
        "field",
        "armchair",
        "seat",
        "fence",
        "desk",
        "rock",
        "wardrobe",
        "lamp",
        "bathtub",
        "railing",
        "cushion",
        "base",
        "box",
        "column",
        "signboard",
        "chest of drawers",
        "counter",
        "sand",
        "sink",
        "skyscraper",
        "fireplace",
        "refrigerator",
        "grandstand",
        "path",
        "stairs",
        "runway",
        "case",
        "pool table",
        "pillow",
        "screen door",
        "stairway",
        "river",
        "bridge",
        "bookcase",
        "blind",
        "coffee table",
        "toilet",
        "flower",
        "book",
        "hill",
        "bench",
        "countertop",
        "stove",
        "palm",
        "kitchen island",
        "computer",
        "swivel chair",
        "boat",
        "bar",
        "arcade machine",
        "hovel",
        "bus",
        "towel",
        "light",
        "truck",
        "tower",
        "chandelier",
        "awning",
        "streetlight",
        "booth",
        "television receiver",
        "airplane",
        "dirt track",
        "apparel",
        "pole",
        "land",
        "bannister",
        "escalator",
        "ottoman",
        "bottle",
        "buffet",
        "poster",
        "stage",
        "van",
        "ship",
        "fountain",
        "conveyer belt",
        "canopy",
        "washer",
        "plaything",
        "swimming pool",
        "stool",
        "barrel",
        "basket",
        "waterfall",
        "tent",
        "bag",
        "minibike",
        "cradle",
        "oven",
        "ball",
        "food",
        "step",
        "tank",
        "trade name",
        "microwave",
        "pot",
        "animal",
        "bicycle",
        "lake",
        "dishwasher",
        "screen",
        "blanket",
        "sculpture",
        "hood",
        "sconce",
        "vase",
        "traffic light",
        "tray",
        "ashcan",
        "fan",
        "pier",
        "crt screen",
        "plate",
        "monitor",
        "bulletin board",
        "shower",
        "radiator",
        "glass",
        "clock",
        "flag",
    ),
    ignore_index=255,
    colours=(
        (120, 120, 120),
        (180, 120, 120),
        (6, 230, 230),
        (80, 50, 50),
        (4, 200, 3),
        (120, 120, 80),
        (140, 140, 140),
        (204, 5, 255),
        (230, 230, 230),
        (4, 250, 7),
        (224, 5, 255),
        (235, 255, 7),
        (150, 5, 61),
        (120, 120, 70),
        (8, 255, 51),
        (255, 6, 82),
        (143, 255, 140),
        (204, 255, 4),
        (255, 51, 7),
        (204, 70, 3),
        (0, 102, 200),
        (61, 230, 250),
        (255, 6, 51),
        (11, 102, 255),
        (255, 7, 71),
        (255, 9, 224),
        (9, 7, 230),
        (220, 220, 220),
        (255, 9, 92),
        (112, 9, 255),
        (8, 255, 214),
        (7, 255, 224),
        (255, 184, 6),
        (10, 255, 71),
        (255, 41, 10),
        (7, 255, 255),
        (224, 255, 8),
        (102, 8, 255),
        (255, 61, 6),
        (255, 194, 7),
        (255, 122, 8),
        (0, 255, 20),
        (255, 8, 41),
        (255, 5, 153),
        (6, 51, 255),
        (235, 12, 255),
        (160, 150, 20),
        (0, 163, 255),
        (140, 140, 140),
        (250, 10, 15),
        (20, 255, 0),
        (31, 255, 0),
        (255, 31, 0),
        (255, 224, 0),
        (153, 255, 0),
        (0, 0, 255),
        (255, 71, 0),
        (0, 235, 255),
        (0, 173, 255),
        (31, 0, 255),
        (11, 200, 200),
        (255, 82, 0),
        (0, 255, 245),
        (0, 61, 255),
        (0, 255, 112),
        (0, 255, 133),
        (255, 0, 0),
        (255, 163, 0),
        (255, 102, 0),
        (194, 255, 0),
        (0, 143, 255),
        (51, 255, 0),
        (0, 82, 255),
        (0, 255, 41),
        (0, 255, 173),
        (10, 0, 255),
        (173, 255, 0),
        (0, 255, 153),
        (255, 92, 0),
        (255, 0, 255),
        (255, 0, 245),
        (255, 0, 102),
        (255, 173, 0),
        (255, 0, 20),
        (255, 184, 184),
        (0, 31, 255),
        (0, 255, 61),
        (0, 71, 255),
        (255, 0, 204),
        (0, 255, 194),
        (0, 255, 82),
        (0, 10, 255),
        (0, 112, 255),
        (51, 0, 255),
        (0, 194, 255),
        (0, 122, 255),
        (0, 255, 163),
        (255, 153, 0),
        (0, 255, 10),
        (255, 112, 0),
        (143, 255, 0),
        (82, 0, 255),
        (163, 255, 0),
        (255, 235, 0),
        (8, 184, 170),
        (133, 0, 255),
        (0, 255, 92),
        (184, 0, 255),
        (255, 0, 31),
        (0, 184, 255),
        (0, 214, 255),
        (255, 0, 112),
        (92, 255, 0),
        (0, 224, 255),
        (112, 224, 255),
        (70, 184, 160),
        (163, 0, 255),
        (153, 0, 255),
        (71, 255, 0),
        (255, 0, 163),
        (255, 204, 0),
        (255, 0, 143),
        (0, 255, 235),
        (133, 255, 0),
        (255, 0, 235),
        (245, 0, 255),
        (255, 0, 122),
        (255, 245, 0),
        (10, 190, 212),
        (214, 255, 0),
        (0, 204, 255),
        (20, 0, 255),
        (255, 255, 0),
        (0, 153, 255),
        (0, 41, 255),
        (0, 255, 204),
        (41, 0, 255),
        (41, 255, 0),
        (173, 0, 255),
        (0, 245, 255),
        (71, 0, 255),
        (122, 0, 255),
        (0, 255, 184),
        (0, 92, 255),
        (184, 255, 0),
        (0, 133, 255),
        (255, 214, 0),
        (25, 194, 194),
        (102, 255, 0),
        (92, 0, 255),
    ),
    ignore_colours=(),
    source="open-mmlab/mmsegmentation mmseg/datasets/ade.py (reduce_zero_label=True)",
)

_SETS = {s.name: s for s in (_VOC, _CITYSCAPES, _ADE20K)}

LABEL_SETS = tuple(_SETS)
"""Names of the built-in label sets: ``'voc'``, ``'cityscapes'``, ``'ade20k'``."""


def get_label_set(name: str, *, argument: str = "label_set") -> LabelSet:
    """Return the built-in label set called ``name`` (one of :data:`LABEL_SETS`).

    Raises
    ------
    InputError
        On an unknown name; the message names ``argument``.

    Examples
    --------
    >>> s = get_label_set("cityscapes")
    >>> s.num_classes, s.class_names[:3], s.ignore_index
    (19, ('road', 'sidewalk', 'building'), 255)
    >>> get_label_set("coco")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `label_set` must be one of 'voc', 'cityscapes', 'ade20k', got 'coco'.
    """
    check_option(argument, name, LABEL_SETS)
    return _SETS[name]
