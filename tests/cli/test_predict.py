import json

import numpy as np
import pytest
import torch
from PIL import Image

import segscore
from segscore.cli import main


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (37, 53), dtype=np.uint8)).save(folder / "odd.png")
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / "rgb.jpg")
    Image.fromarray(rng.integers(0, 65536, (20, 24), dtype=np.uint16)).save(folder / "deep.tif")
    (folder / "notes.txt").write_text("not an image")
    return folder


def _read(path):
    with Image.open(path) as img:
        return np.asarray(img)


def _error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "\n" not in err
    return err


def test_predict_folder_names_and_sizes(run_dir, images, tmp_path, capsys):
    out = tmp_path / "pred"
    assert main(["predict", str(run_dir), str(images), "--out", str(out)]) == 0
    names = ["deep.png", "odd.png", "predict.json", "rgb.png"]
    assert sorted(p.name for p in out.iterdir()) == names
    mask = _read(out / "odd.png")
    assert mask.shape == (37, 53)
    assert set(np.unique(mask)) <= {0, 1}
    assert "predicted 3 image(s)" in capsys.readouterr().out
    record = json.loads((out / "predict.json").read_text())
    assert record["threshold"] == 0.5
    assert record["n_images"] == 3
    assert record["run"] == str(run_dir / "checkpoint.pt")
    assert record["segscore_version"] == segscore.__version__


def test_out_must_not_be_where_the_masks_would_overwrite_the_images(run_dir, tmp_path, capsys):
    # Reviewed: `predict RUN imgs --out imgs` replaced imgs/gray.png by its own 0/1 mask.
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(folder / "gray.png")
    before = (folder / "gray.png").read_bytes()
    assert main(["predict", str(run_dir), str(folder), "--out", str(folder)]) == 2
    assert "would be written over the input" in _error(capsys)
    assert (folder / "gray.png").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["gray.png"]


def test_out_that_is_a_file_is_refused_before_the_network_runs(run_dir, images, tmp_path, capsys):
    # Reviewed: a FileExistsError traceback (exit 1) after the network had run.
    taken = tmp_path / "outfile.txt"
    taken.write_text("mine")
    assert main(["predict", str(run_dir), str(images), "--out", str(taken)]) == 2
    assert "`--out` must be a folder" in _error(capsys)
    assert taken.read_text() == "mine"


@pytest.mark.parametrize(("fmt", "suffix"), [("npy", ".npy"), ("tiff", ".tiff")])
def test_predict_single_file_with_probabilities(run_dir, images, tmp_path, fmt, suffix):
    out = tmp_path / "pred"
    args = [
        "predict",
        str(run_dir),
        str(images / "odd.png"),
        "--out",
        str(out),
        "--save-probs",
        fmt,
    ]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["odd.png", "predict.json", "probs"]
    assert [p.name for p in (out / "probs").iterdir()] == [f"odd{suffix}"]
    if fmt == "npy":
        prob = np.load(out / "probs" / "odd.npy")
        assert prob.shape == (37, 53)
        assert prob.dtype == np.float32
        assert ((prob >= 0) & (prob <= 1)).all()
        mask = _read(out / "odd.png")
        np.testing.assert_array_equal(mask, (prob >= 0.5).astype(np.uint8))


def test_threshold_option(run_dir, images, tmp_path):
    lo, hi = tmp_path / "lo", tmp_path / "hi"
    assert (
        main(["predict", str(run_dir), str(images), "--out", str(lo), "--threshold", "0.01"]) == 0
    )
    assert (
        main(["predict", str(run_dir), str(images), "--out", str(hi), "--threshold", "0.99"]) == 0
    )
    assert _read(lo / "odd.png").sum() >= _read(hi / "odd.png").sum()


def test_missing_inputs(run_dir, tmp_path, capsys):
    assert (
        main(["predict", str(run_dir), str(tmp_path / "none"), "--out", str(tmp_path / "p")]) == 2
    )
    assert "none" in _error(capsys)
    (tmp_path / "empty").mkdir()
    assert (
        main(["predict", str(run_dir), str(tmp_path / "empty"), "--out", str(tmp_path / "p")]) == 2
    )
    assert "must hold image files" in _error(capsys)
    assert main(["predict", str(tmp_path / "norun"), str(tmp_path / "empty"), "--out", "x"]) == 2
    _error(capsys)


def test_corrupt_image(run_dir, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    assert main(["predict", str(run_dir), str(bad), "--out", str(tmp_path / "p")]) == 2
    assert "bad.png" in _error(capsys)


def test_pickled_code_checkpoint(images, tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    run = tmp_path / "evil"
    run.mkdir()
    torch.save({"format": "segscore-checkpoint/1", "x": Payload()}, run / "checkpoint.pt")
    assert main(["predict", str(run), str(images), "--out", str(tmp_path / "p")]) == 2
    err = _error(capsys)
    assert "checkpoint.pt" in err
    assert "cannot be loaded safely" in err
    assert "code ran" not in capsys.readouterr().out


def test_checkpoint_of_other_architecture(run_dir, images, tmp_path, capsys):
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    ckpt["model_spec"] = {**ckpt["model_spec"], "depth": 3}
    other = tmp_path / "other"
    other.mkdir()
    torch.save(ckpt, other / "checkpoint.pt")
    assert main(["predict", str(other), str(images), "--out", str(tmp_path / "p")]) == 2
    err = _error(capsys)
    assert "checkpoint.pt' does not fit the model UNet" in err
    assert "missing tensors" in err


def test_threshold_from_a_validation_run(run_dir, images, tmp_path, capsys):
    # A validation run on probability maps: its sweep chooses the threshold.
    rng = np.random.default_rng(3)
    for folder in ("prob", "gt"):
        (tmp_path / "val" / folder).mkdir(parents=True)
    for i in range(4):
        target = rng.random((16, 16)) > 0.5
        prob = np.clip(target * 0.5 + rng.random((16, 16)) * 0.55, 0, 1).astype(np.float32)
        Image.fromarray(prob, mode="F").save(tmp_path / "val" / "prob" / f"c{i}.tif")
        Image.fromarray(target.astype(np.uint8) * 255).save(tmp_path / "val" / "gt" / f"c{i}.png")
    evaluation = tmp_path / "val_run"
    argv = ["evaluate", "--pred", str(tmp_path / "val" / "prob"), "--gt"]
    argv += [str(tmp_path / "val" / "gt"), "--out", str(evaluation), "--no-report", "--jobs", "1"]
    assert main(argv) == 0
    import json

    chosen = json.loads((evaluation / "summary.json").read_text())["threshold_sweep"]
    chosen = chosen["best_threshold"]
    capsys.readouterr()
    base = ["predict", str(run_dir), str(images)]
    assert main([*base, "--out", str(tmp_path / "a"), "--threshold-from", str(evaluation)]) == 0
    assert f"at threshold {chosen:g} (chosen on {evaluation / 'summary.json'})" in (
        capsys.readouterr().out
    )
    assert main([*base, "--out", str(tmp_path / "b"), "--threshold", str(chosen)]) == 0
    for name in ("odd.png", "rgb.png", "deep.png"):
        np.testing.assert_array_equal(_read(tmp_path / "a" / name), _read(tmp_path / "b" / name))
    both = ["--threshold", "0.3", "--threshold-from", str(evaluation)]
    assert main([*base, "--out", str(tmp_path / "c"), *both]) == 2
    assert "`--threshold` must not be combined with `--threshold-from`" in _error(capsys)
    assert main([*base, "--out", str(tmp_path / "c"), "--threshold-from", str(run_dir)]) == 2
    assert "config.json records the threshold it was given" in _error(capsys)
    assert not (tmp_path / "c").exists()


# --- --instances: objects from the masks -------------------------------------------------------


@pytest.mark.parametrize("method", ["components", "watershed"])
def test_instances_written_beside_masks(run_dir, images, tmp_path, capsys, method):
    from segscore.io import read_instances
    from segscore.predict.objects import mask_to_objects

    out = tmp_path / "pred"
    args = ["predict", str(run_dir), str(images), "--out", str(out), "--instances", method]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "deep.png",
        "instances",
        "odd.png",
        "predict.json",
        "rgb.png",
    ]
    assert sorted(p.name for p in (out / "instances").iterdir()) == [
        "deep.png",
        "odd.png",
        "rgb.png",
    ]
    total = 0
    for stem in ("deep", "odd", "rgb"):
        with Image.open(out / "instances" / f"{stem}.png") as img:
            assert img.mode == "I;16"
        objects = read_instances(out / "instances" / f"{stem}.png")
        mask = _read(out / f"{stem}.png")
        np.testing.assert_array_equal(objects, mask_to_objects(mask, method=method))
        np.testing.assert_array_equal(objects > 0, mask == 1)
        total += int(objects.max())
    assert f"{total} objects by {method} (in instances/)" in capsys.readouterr().out


def test_instances_min_size_and_min_distance(run_dir, images, tmp_path):
    from segscore.io import read_instances
    from segscore.predict.objects import mask_to_objects

    out = tmp_path / "pred"
    args = ["predict", str(run_dir), str(images / "odd.png"), "--out", str(out)]
    args += ["--instances", "watershed", "--min-size", "5", "--min-distance", "6"]
    assert main(args) == 0
    expected = mask_to_objects(
        _read(out / "odd.png"), method="watershed", min_size=5, min_distance=6
    )
    np.testing.assert_array_equal(read_instances(out / "instances" / "odd.png"), expected)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--instances", "blobs"], "argument --instances: invalid choice: 'blobs'"),
        (["--min-size", "3"], "`--min-size` applies only with `--instances`, got --min-size 3."),
        (
            ["--instances", "components", "--min-distance", "2"],
            "`--min-distance` applies only to `--instances watershed`, got --instances components.",
        ),
        (
            ["--instances", "watershed", "--min-size", "-1"],
            "`--min-size` must be an integer >= 0, got -1.",
        ),
    ],
)
def test_instances_bad_options(run_dir, images, tmp_path, capsys, extra, message):
    out = tmp_path / "pred"
    assert main(["predict", str(run_dir), str(images), "--out", str(out), *extra]) == 2
    assert message in _error(capsys)
    assert not out.exists()  # refused before anything is predicted or written
