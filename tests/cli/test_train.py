import json

import numpy as np
import torch
from PIL import Image

from segscore.cli import main


def _folder(root, n=4, size=(32, 32)):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, size, dtype=np.uint8)).save(
            root / "images" / f"c{i}.png"
        )
        Image.fromarray((rng.random(size) > 0.7).astype(np.uint8) * 255).save(
            root / "masks" / f"c{i}.png"
        )
    return root


def test_train_synthetic_writes_run(tmp_path, capsys, tiny):
    run = tmp_path / "run"
    assert main(["train", "synthetic", "--out", str(run), *tiny]) == 0
    out = capsys.readouterr().out
    assert "epoch | train loss" in out
    assert "|*" in out
    for name in ("checkpoint.pt", "config.json", "trace.json", "trace.csv", "timing.json"):
        assert (run / name).is_file()
    trace = json.loads((run / "trace.json").read_text())
    assert [r["epoch"] for r in trace["epochs"]] == [1]
    assert set(trace["epochs"][0]) >= {"train_loss", "train_iou", "val_dice", "val_accuracy"}
    assert (run / "trace.csv").read_text().startswith("epoch,train_loss,train_accuracy")
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 1
    config = json.loads((run / "config.json").read_text())
    assert config["threads"] == 1
    assert config["arch"] == "unet"
    assert "encoder" not in config  # issue #14: write only what the run used
    assert trace["threads"] == 1


def test_nuclei_defaults_recorded(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "nuclei", "--out", str(run), "--epochs", "1", "--base-channels", "4"]
    assert main([*args, "--depth", "2"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["epochs"], config["batch_size"]) == (1, 4)  # nuclei's batch, explicit epochs
    from segscore.train.threads import default_threads

    assert config["threads"] == default_threads()
    assert f"{default_threads()} thread(s)" in capsys.readouterr().out


def test_same_seed_same_trace_and_weights(tmp_path, tiny):
    for name in ("a", "b"):
        assert (
            main(["train", "synthetic", "--out", str(tmp_path / name), *tiny, "--epochs", "2"]) == 0
        )
    assert (tmp_path / "a" / "trace.json").read_bytes() == (
        tmp_path / "b" / "trace.json"
    ).read_bytes()
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)["model_state"]
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["model_state"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_equals_uninterrupted(tmp_path, capsys, monkeypatch, tiny):
    from segscore.train import loop

    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    assert main(["train", "synthetic", "--out", full, *tiny, "--epochs", "3"]) == 0
    real_fit = loop.fit

    def interrupted_fit(*args, on_epoch=None, **kwargs):  # Ctrl-C right after epoch 1
        def callback(record, seconds):
            on_epoch(record, seconds)
            raise KeyboardInterrupt

        return real_fit(*args, on_epoch=callback, **kwargs)

    monkeypatch.setattr(loop, "fit", interrupted_fit)
    assert main(["train", "synthetic", "--out", part, *tiny, "--epochs", "3"]) == 130
    monkeypatch.undo()
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["epoch"] == 1
    capsys.readouterr()
    assert main(["train", "synthetic", "--out", part, "--resume"]) == 0
    assert "resuming" in capsys.readouterr().out
    for name in ("trace.json", "trace.csv", "config.json"):
        assert (tmp_path / "full" / name).read_bytes() == (tmp_path / "part" / name).read_bytes()
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(a["model_state"][k], b["model_state"][k]) for k in a["model_state"])


def test_space_to_depth_stem_trains_resumes_and_predicts(tmp_path, capsys, tiny):
    run = tmp_path / "run"
    assert main(["train", "synthetic", "--out", str(run), *tiny, "--stem", "space_to_depth"]) == 0
    assert "stem space_to_depth" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["stem"] == "space_to_depth"
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["model_spec"]["stem"] == "space_to_depth"
    assert main(["train", "synthetic", "--out", str(run), "--resume", "--epochs", "2"]) == 0
    trace = json.loads((run / "trace.json").read_text())
    assert [r["epoch"] for r in trace["epochs"]] == [1, 2]
    image = tmp_path / "odd.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (37, 53), np.uint8)).save(image)
    assert main(["predict", str(run), str(image), "--out", str(tmp_path / "pred")]) == 0
    with Image.open(tmp_path / "pred" / "odd.png") as mask:
        assert np.asarray(mask).shape == (37, 53)


def test_conv_run_records_no_stem_in_its_checkpoint(tmp_path, tiny):
    run = tmp_path / "run"
    assert main(["train", "synthetic", "--out", str(run), *tiny]) == 0
    assert json.loads((run / "config.json").read_text())["stem"] == "conv"
    spec = torch.load(run / "checkpoint.pt", weights_only=True)["model_spec"]
    assert "stem" not in spec  # the spec checkpoints held before the option: old runs resume


def test_resume_extends_run(tmp_path, capsys, tiny):
    run = str(tmp_path / "run")
    assert main(["train", "synthetic", "--out", run, *tiny]) == 0
    assert main(["train", "synthetic", "--out", run, "--resume", "--epochs", "2"]) == 0
    trace = json.loads((tmp_path / "run" / "trace.json").read_text())
    assert [r["epoch"] for r in trace["epochs"]] == [1, 2]


def test_train_folder(tmp_path, capsys, tiny):
    data = _folder(tmp_path / "data")
    args = ["train", str(data), "--out", str(tmp_path / "run"), *tiny[4:]]
    assert main(args) == 0
    assert "3 training, 1 validation" in capsys.readouterr().out


def _error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "\n" not in err
    return err


def test_missing_folder(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nothing"), "--out", str(tmp_path / "r")]) == 2
    assert "nothing" in _error(capsys)


def test_folder_without_pairs(tmp_path, capsys):
    (tmp_path / "d" / "images").mkdir(parents=True)
    (tmp_path / "d" / "masks").mkdir()
    assert main(["train", str(tmp_path / "d"), "--out", str(tmp_path / "r")]) == 2
    _error(capsys)


def test_image_without_mask(tmp_path, capsys):
    data = _folder(tmp_path / "d")
    (data / "masks" / "c0.png").unlink()
    assert main(["train", str(data), "--out", str(tmp_path / "r")]) == 2
    assert "c0.png" in _error(capsys)


def test_size_mismatch(tmp_path, capsys):
    data = _folder(tmp_path / "d")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(data / "masks" / "c1.png")
    assert main(["train", str(data), "--out", str(tmp_path / "r")]) == 2
    assert "c1" in _error(capsys)


def test_corrupt_image(tmp_path, capsys):
    data = _folder(tmp_path / "d")
    (data / "images" / "c2.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    assert main(["train", str(data), "--out", str(tmp_path / "r")]) == 2
    assert "c2.png" in _error(capsys)


def test_refuses_to_overwrite_and_checks_resume(tmp_path, capsys, tiny):
    run = str(tmp_path / "run")
    assert main(["train", "synthetic", "--out", run, *tiny]) == 0
    capsys.readouterr()
    assert main(["train", "synthetic", "--out", run, *tiny]) == 2
    assert "use --resume" in _error(capsys)
    assert main(["train", "synthetic", "--out", run, "--resume", "--lr", "0.5"]) == 2
    assert "`--lr` must match the run's config" in _error(capsys)
    assert main(["train", "nuclei", "--out", run, "--resume"]) == 2
    assert "`DATA` must be the run's data" in _error(capsys)
    assert main(["train", "synthetic", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "config.json" in _error(capsys)


def test_resume_refuses_pickled_code(tmp_path, capsys, tiny):
    run = tmp_path / "run"
    assert main(["train", "synthetic", "--out", str(run), *tiny]) == 0

    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"format": "segscore-checkpoint/1", "x": Payload()}, run / "checkpoint.pt")
    capsys.readouterr()
    assert main(["train", "synthetic", "--out", str(run), "--resume", "--epochs", "2"]) == 2
    assert "cannot be loaded safely" in _error(capsys)


def test_bad_option(tmp_path, capsys):
    assert main(["train", "synthetic", "--out", str(tmp_path / "r"), "--epochs", "0"]) == 2
    assert "`epochs` must be an integer >= 1, got 0." in _error(capsys)


def test_parser_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from segscore.cli import build_parser; build_parser(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_multiclass_folder_train_and_predict(tmp_path, capsys, tiny):
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 28), dtype=np.uint8)).save(
            root / "images" / f"m{i}.png"
        )
        Image.fromarray(rng.integers(0, 3, (24, 28), dtype=np.uint8)).save(
            root / "masks" / f"m{i}.png"
        )
    run = tmp_path / "run"
    args = ["train", str(root), "--out", str(run), "--num-classes", "3", *tiny[4:]]
    assert main(args) == 0
    assert json.loads((run / "config.json").read_text())["layout"] == "multiclass"
    pred = tmp_path / "pred"
    assert (
        main(["predict", str(run), str(root / "images"), "--out", str(pred), "--save-probs", "npy"])
        == 0
    )
    assert np.load(pred / "probs" / "m0.npy").shape == (3, 24, 28)
    with Image.open(pred / "m0.png") as img:
        assert set(np.unique(np.asarray(img))) <= {0, 1, 2}
    # objects are made from binary masks only
    other = tmp_path / "pred2"
    args = [
        "predict",
        str(run),
        str(root / "images"),
        "--out",
        str(other),
        "--instances",
        "components",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: `--instances` applies to binary runs, got a run with 3 classes."
    args = ["trace", str(run), str(root / "images" / "m0.png"), "--mask-layout", "instances"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: `--mask-layout` applies to binary runs, got a run with 3 classes."


def test_instance_label_map_folder_trains_on_foreground(tmp_path, capsys, tiny):
    from segscore.io import write_instances

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 28), dtype=np.uint8)).save(
            root / "images" / f"m{i}.png"
        )
        write_instances(root / "masks" / f"m{i}.png", rng.integers(0, 300, (24, 28)))
    run = tmp_path / "run"
    assert main(["train", str(root), "--out", str(run), *tiny[4:]]) == 2  # binary: refused
    assert "for label maps use layout" in capsys.readouterr().err
    assert main(["train", str(root), "--out", str(run), "--layout", "instances", *tiny[4:]]) == 0
    assert json.loads((run / "config.json").read_text())["layout"] == "instances"


def test_smp_architecture_without_the_extra(tmp_path, capsys):
    assert main(["train", "synthetic", "--out", str(tmp_path / "r"), "--arch", "smp:Unet"]) == 2
    err = capsys.readouterr().err
    assert '"smp" extra' in err
    assert not (tmp_path / "r").exists()
