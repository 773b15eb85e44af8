import numpy as np
import pytest
from PIL import Image

from segscore.cli import main


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (37, 53), dtype=np.uint8)).save(tmp_path / "img.png")
    Image.fromarray((rng.random((37, 53)) > 0.6).astype(np.uint8) * 255).save(tmp_path / "mask.png")
    return tmp_path / "img.png", tmp_path / "mask.png"


def test_trace_with_mask_and_picture(run_dir, pair, tmp_path, capsys):
    image, mask = pair
    out = tmp_path / "trace.png"
    assert main(["trace", str(run_dir), str(image), "--mask", str(mask), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for stage in (
        "raw",
        "[0,1] input",
        "padded",
        "encoder 1",
        "encoder 2",
        "bottleneck",
        "decoder 2",
        "decoder 1",
        "logits",
        "sigmoid",
        "threshold 0.5",
        "IoU",
        "Dice",
    ):
        assert stage in text
    assert "shape (37, 53) uint8 range" in text
    assert "shape (1, 40, 56) float32" in text
    with Image.open(out) as picture:
        assert picture.width > 10 * picture.height // 2


def test_trace_without_mask(run_dir, pair, capsys):
    assert main(["trace", str(run_dir), str(pair[0])]) == 0
    assert "IoU" not in capsys.readouterr().out


def test_trace_size_mismatch(run_dir, pair, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "small.png")
    assert main(["trace", str(run_dir), str(pair[0]), "--mask", str(tmp_path / "small.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: mask")
    assert "(37, 53)" in err


def test_trace_missing_image(run_dir, tmp_path, capsys):
    assert main(["trace", str(run_dir), str(tmp_path / "nope.png")]) == 2
    assert "nope.png" in capsys.readouterr().err


def test_trace_of_a_folder_says_it_is_a_folder(run_dir, tmp_path, capsys):
    # Regression (issue #11): an existing folder was reported as "no such file".
    folder = tmp_path / "images"
    folder.mkdir()
    assert main(["trace", str(run_dir), str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "must be an existing image file, got a folder" in err


def test_trace_instance_label_map_mask(run_dir, pair, tmp_path, capsys):
    from segscore.io import write_instances

    image, mask = pair
    with Image.open(mask) as img:
        foreground = np.asarray(img) > 0
    ids = np.where(foreground, np.arange(foreground.size).reshape(foreground.shape) % 300 + 1, 0)
    write_instances(tmp_path / "ids.png", ids)
    assert main(["trace", str(run_dir), str(image), "--mask", str(mask)]) == 0
    binary_scores = capsys.readouterr().out.splitlines()[-1].split("(against")[0]
    args = ["trace", str(run_dir), str(image), "--mask", str(tmp_path / "ids.png")]
    assert main(args) == 2  # a label map is not read as a binary mask unasked
    assert "for label maps use layout" in capsys.readouterr().err
    assert main([*args, "--mask-layout", "instances"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split("(against")[0] == binary_scores


@pytest.mark.parametrize("name", ["folder", "picture.jpg"])
def test_trace_out_must_name_a_png_file(run_dir, pair, tmp_path, capsys, name):
    # Reviewed: a folder gave an IsADirectoryError traceback; x.jpg got PNG bytes.
    image, _ = pair
    (tmp_path / "folder").mkdir()
    assert main(["trace", str(run_dir), str(image), "--out", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `--out` must name a .png file")
    assert err.count("\n") == 1
    assert not (tmp_path / "picture.jpg").exists()
