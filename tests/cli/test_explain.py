"""``segscore explain``: every name of the registry, checked against the masks it draws.

The worked example's masks are read back from the printed text and scored again: the counts by a
brute force written here, the formula as printed (its numbers substituted) by Python's own
arithmetic, the value by segscore's functions. Lesion metrics are scored again by the BraTS 2023
procedure written with scipy and DeepMind surface-distance (tests/metrics/_lesions.py), COCO
metrics by a brute force written here from pycocotools' rules (scores: the mean of the printed
probabilities). ``--run`` is checked on a real `segscore evaluate` folder, the expected case
chosen here from per_case.csv read with the csv module.
"""

from __future__ import annotations

import csv
import json
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from tests.metrics._lesions import brats_lesions

from segscore import EmptyPolicy, confusion, distance_metrics, get_metric, instance_scores
from segscore.cli import main
from segscore.metrics.instance import coco_scores, lesion_scores
from segscore.metrics.registry import _PATTERNS, METRICS
from segscore.report.explain import TOPICS, explain, topic_key

NAMES = [
    *METRICS,
    "fbeta@3",
    "hd99",
    "nsd@1.0",
    "biou@2px",
    "biou@1mm",
    "biou@0.02diag",
    "f1@0.5",
    "precision@0.5",
    "recall@0.75",
    "dsb@0.5",
    "dsb@0.5:0.95",
    "pq@0.7",
    "sq@0.6",
    "rq@0.5",
    "tp@0.5",
    "fp@0.5",
    "fn@0.5",
    "ap",
    "ap@0.5",
    "ap@0.7",
    "ap@0.5:0.75",
    "ap_small",
    "ap_medium",
    "ap_large",
    "ap@0.5_small",
    "ar",
    "ar1",
    "ar10",
    "ar100",
    "ar@0.5",
    "ar_small",
    "ar_medium",
]
SECTIONS = ("Formula", "Worked example", "Conventions that change the number", "What the peers do")


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_names_cover_every_family_base_and_pattern_of_the_registry() -> None:
    covered = {(get_metric(n).kind, get_metric(n).base) for n in NAMES}
    assert {(s.kind, s.base) for s in METRICS.values()} <= covered
    pattern_bases = {re.match(r"[a-z0-9.+]+?(?=@|P\b|P |N$|_\{|$)", p).group(0) for p in _PATTERNS}
    assert pattern_bases <= {base for _, base in covered}
    assert {topic_key(get_metric(n)) for n in NAMES} == set(TOPICS)  # every topic is reached


def _grids(text: str, first: str) -> list[list[str]]:
    """The rows of the drawn masks under the header line that starts with ``first``."""
    lines = text.split("\nWorked example\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(first))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def _masks(text: str, first: str, symbols: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    rows = _grids(text, first)
    target = np.array([[symbols[0].index(c) for c in r[0]] for r in rows])
    pred = np.array([[symbols[1].index(c) for c in r[1]] for r in rows])
    return pred, target


def _python_value(expression: str) -> float:
    """Evaluate a formula as printed: |x| is abs(x), ^ a power, sqrt the square root."""
    code = re.sub(r"\|([^|]+)\|", r"abs(\1)", expression).replace("^", "**")
    return float(eval(code, {"sqrt": math.sqrt, "abs": abs}))  # the text's own arithmetic


_COCO_RANGES = {"all": (0, 10**10), "small": (0, 32**2), "medium": (32**2, 96**2)}
_COCO_RANGES["large"] = (96**2, 10**10)


def _coco_reference(pred, target, scores, spec) -> tuple[float, list[float]]:
    """COCO AP or AR of one image by pycocotools' rules, one detection at a time, in fractions.

    Detections by decreasing score (ties: id order), the best ``max_detections`` kept; each takes
    the unmatched target of IoU >= T that is in the size range (else any), of largest IoU, the
    last on ties. Precision at recall point r: the best precision at recall >= r, 0 if none
    (no recall here equals one of pycocotools' ten strict points, so '>=' is its rule).
    Returns the value (NaN without a target in range) and the per-threshold values.
    """
    p = spec.params
    if "threshold" in p:
        ts = [Fraction(str(p["threshold"]))]
    else:
        low, high = Fraction(str(p.get("low", "0.5"))), Fraction(str(p.get("high", "0.95")))
        ts = [low + k * Fraction(str(p.get("step", "0.05"))) for k in range(20)]
        ts = [t for t in ts if t <= high]
    lo, hi = _COCO_RANGES[p["area"]]
    dets = int(p.get("max_detections", 100))
    t_ids = [int(g) for g in np.unique(target) if g]
    p_ids = [int(q) for q in np.unique(pred) if q]
    inside = {g: lo <= np.sum(target == g) <= hi for g in t_ids}
    g_count = sum(inside.values())
    if g_count == 0:
        return math.nan, []
    iou = {
        (q, g): Fraction(
            int(np.sum((pred == q) & (target == g))), int(np.sum((pred == q) | (target == g)))
        )
        for q in p_ids
        for g in t_ids
    }
    ranked = sorted(p_ids, key=lambda q: -scores[q])[:dets]
    per_t = []
    for t in ts:
        taken, outcome = set(), []
        for q in ranked:
            free = [g for g in t_ids if g not in taken and iou[q, g] >= t]
            if free:
                g = max(free, key=lambda g: (inside[g], iou[q, g], g))
                taken.add(g)
                outcome.append(inside[g] or None)
            else:
                outcome.append(False if lo <= np.sum(pred == q) <= hi else None)
        kept = [o for o in outcome if o is not None]
        tp = np.cumsum(kept) if kept else np.zeros(0)
        if spec.base == "ar":
            per_t.append(float(Fraction(int(tp[-1]) if kept else 0, g_count)))
            continue
        curve = [(Fraction(int(n), g_count), Fraction(int(n), k + 1)) for k, n in enumerate(tp)]
        points = [
            max((pr for rc, pr in curve if rc >= Fraction(r, 100)), default=0) for r in range(101)
        ]
        per_t.append(float(sum(points) / 101))
    return sum(per_t) / len(per_t), per_t


def _check_coco(spec, out: str) -> None:
    rows = _grids(out, "target")
    target = np.array([[".123456789".index(c) for c in r[0]] for r in rows])
    pred = np.array([[".abcdefghi".index(c) for c in r[1]] for r in rows])
    tenths = np.array([[int(c) for c in r[2]] for r in rows])
    scores = {int(q): float(np.mean(tenths[pred == q])) / 10 for q in np.unique(pred) if q}
    printed = dict(re.findall(r"^    ([a-i]) +\d+  ([0-9.]+)$", out, re.M))
    assert printed == {".abcdefghi"[q]: f"{v:.4f}" for q, v in scores.items()}
    expected, per_t = _coco_reference(pred, target, scores, spec)
    values = re.findall(r"= (-?[0-9.]+|NaN)   \(segscore\.coco_scores", out)
    assert ("NaN" if math.isnan(expected) else f"{expected:.4f}") in values, (expected, values)
    found = re.search(r"\n  AP@([0-9.]+) = (.+) = [0-9.]+\n", out)
    assert (found is not None) == (spec.base == "ap" and not math.isnan(expected))
    if found:  # the first threshold's 101 points, as printed
        assert _python_value(found.group(2).replace(" x ", "*")) == pytest.approx(
            per_t[0], abs=1e-4
        )


def _check_lesions(spec, out: str) -> None:
    pred, target = _masks(out, "target", (".123456789", ".abcdefghi"))
    dilation, min_volume = re.search(r"dilation (\d+), min_volume ([0-9.]+)", out).groups()
    ref = brats_lesions(pred > 0, target > 0, (1.0, 1.0), int(dilation), float(min_volume))
    counts = re.search(r"tp = (\d+) found, fn = (\d+) missed, fp = (\d+)", out).groups()
    assert [int(c) for c in counts] == [ref.n_tp, ref.n_fn, ref.n_fp]
    dice, hd95 = ref.scores()
    expected = {
        "lesion_dice": dice,
        "lesion_hd95": hd95,
        "lesion_tp": ref.n_tp,
        "lesion_fp": ref.n_fp,
        "lesion_fn": ref.n_fn,
    }[spec.name]
    values = re.findall(r"= (-?[0-9.]+)   \(segscore\.lesion_scores", out)
    assert (f"{expected:g}" if spec.unit == "count" else f"{expected:.4f}") in values
    if spec.unit != "count":
        formula = re.search(rf"\n  {spec.name} = (.+) = [0-9.]+   \(segscore", out).group(1)
        assert _python_value(formula) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings(  # DeepMind surface-distance 0.1, the lesions' HD95 reference
    "ignore:Please import `.*` from the `scipy.ndimage` namespace:DeprecationWarning"
)
def test_every_name_is_explained_and_its_example_recomputes(name, capsys) -> None:
    code, out, err = _run(capsys, name, "--no-quiz")
    assert code == 0, err
    spec = get_metric(name)
    assert out.splitlines()[0].startswith(f"{spec.label} ({spec.name}): ")
    positions = [out.index(f"\n{s}\n") for s in SECTIONS]
    assert positions == sorted(positions)
    assert max(len(line) for line in out.splitlines()) <= 100
    if spec.base.startswith("lesion_"):
        _check_lesions(spec, out)
        return
    if spec.base in ("ap", "ar"):
        _check_coco(spec, out)
        return
    if spec.kind == "instance":
        pred, target = _masks(out, "target", (".123456789", ".abcdefghi"))
        expected = instance_scores(pred, target, [spec.name])[spec.name].value
        if spec.base in ("f1", "precision", "recall", "dsb", "rq", "pq", "sq", "tp", "fp", "fn"):
            t = float(spec.params.get("threshold", spec.params.get("low", 0.5)))
            found = re.search(r"tp = (\d+) matched, fp = (\d+) .*?fn = (\d+)", out, re.S)
            ious = [
                np.sum((pred == p) & (target == g)) / np.sum((pred == p) | (target == g))
                for p in range(1, pred.max() + 1)
                for g in range(1, target.max() + 1)
            ]
            tp = sum(v >= t for v in ious)  # T >= 0.5: a pair at or above T is one-to-one
            assert [int(x) for x in found.groups()] == [
                tp,
                pred.max() - tp,
                target.max() - tp,
            ]
        printed = re.findall(r"= (-?[0-9.]+|NaN)   \(segscore\.instance_scores", out)
        assert printed, out
        value = f"{expected:g}" if spec.unit == "count" else f"{expected:.4f}"
        assert value in printed
        return
    pred, target = _masks(out, "target", (".#", ".#"))
    assert pred.shape == target.shape == (6, 8)
    if spec.kind == "overlap":
        counts = re.search(r"tp = (\d+), fp = (\d+), fn = (\d+), tn = (\d+)", out).groups()
        p, t = pred.astype(bool), target.astype(bool)
        brute = [np.sum(p & t), np.sum(p & ~t), np.sum(~p & t), np.sum(~p & ~t)]
        assert [int(c) for c in counts] == brute
        expected = spec.cells(confusion(pred, target), EmptyPolicy())[0, 0]
        formula = re.search(
            rf"\n  {re.escape(spec.label)} = (.+)\n", out.split("Worked example")[1]
        )
        assert _python_value(formula.group(1)) == pytest.approx(expected, rel=1e-12)
    else:
        options = {"boundary_metric": "euclidean"} if spec.params.get("width_unit") == "mm" else {}
        expected = distance_metrics(pred, target, [spec.name], **options)[spec.name][0, 0]
        if spec.base == "hd" and "percentile" not in spec.params:
            lists = re.findall(r"d\([PG]->[PG]\), sorted: ([0-9. ]+)", out)
            assert max(float(x) for x in " ".join(lists).split()) == pytest.approx(
                expected, abs=5e-3
            )
    printed = re.findall(r"= (\(?[-0-9., ]+\)?|NaN|inf)   \(", out.split("Conventions")[0])
    want = (
        "(" + ", ".join(f"{v:.4f}" for v in np.ravel(expected)) + ")"
        if np.size(expected) > 1
        else f"{float(expected):.4f}"
    )
    assert want in [p.strip() for p in printed], (want, printed)


def test_the_conventions_show_the_empty_cases_and_every_aggregation_rule(capsys) -> None:
    code, out, _ = _run(capsys, "iou", "--no-quiz")
    assert code == 0
    conventions = out.split("Conventions that change the number")[1].split("What the peers")[0]
    for case in ("both_empty", "target_empty", "prediction_empty", "both_present"):
        assert case in conventions
    for rule in ("pooled", "pooled_micro", "images_then_classes", "classes_then_images"):
        assert rule in conventions
    for word in ("Threshold", "Ignore label", "include_background=False", "preset monai"):
        assert word in conventions
    # The peers' row values come from the presets: MONAI's target-empty IoU is NaN, SMP's
    # two-empty value is 1 (CONVENTIONS §5.2).
    monai = next(line for line in conventions.splitlines() if "preset monai" in line).split()
    smp = next(line for line in conventions.splitlines() if "preset smp" in line).split()
    assert monai[2:6] == ["NaN", "NaN", "0.0000", "0.5000"]
    assert smp[2] == "1.0000"


def test_hd95_shows_the_three_peers_numbers_of_conventions_51(capsys) -> None:
    code, out, _ = _run(capsys, "hd95", "--no-quiz")
    assert code == 0
    table = out.split("CONVENTIONS §5.1's masks")[1].split("Empty masks")[0]
    rows = {line.split()[1]: line.split()[2] for line in table.splitlines() if "preset " in line}
    # CONVENTIONS §5.1: MedPy 1.00 (pooled), MONAI / Metrics Reloaded 2.08, DeepMind 21.93.
    assert rows["medpy"] == "1.0000"
    assert rows["monai"] == rows["metrics-reloaded"] == "2.0814"
    assert rows["deepmind"] == "21.9317"


def test_quiz_right_and_wrong_answers(capsys) -> None:
    quiz = explain("iou").quiz
    right = quiz.letters[quiz.answer]
    wrong = next(x for x in quiz.letters if x != right)
    code, out, _ = _run(capsys, "iou", "--answer", right.upper())
    assert code == 0
    assert "What does an IoU of 1.0 mean?" in out
    assert f"Right: {right})" in out
    code, out, _ = _run(capsys, "iou", "--answer", wrong)
    assert code == 0
    assert f"Wrong: {wrong})" in out
    assert f"the answer is {right})" in out


def test_without_a_terminal_the_quiz_prints_its_key(capsys) -> None:
    code, out, _ = _run(capsys, "dice")  # pytest's stdin is not a terminal
    assert code == 0
    assert "\nQuiz\n" in out
    assert "Answer: b) 0.667." in out


def test_on_a_terminal_the_quiz_asks_until_a_letter_is_given(capsys, monkeypatch) -> None:
    answers = iter(["x", "b"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    code, out, _ = _run(capsys, "iou")
    assert code == 0
    assert "Answer with one of a, b, c, d." in out
    assert "Right: b)" in out


def test_no_quiz_skips_it(capsys) -> None:
    code, out, _ = _run(capsys, "iou", "--no-quiz")
    assert code == 0
    assert "Quiz" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["iou", "--answer", "z"], "error: `--answer` must be one of 'a', 'b', 'c', 'd', got 'z'."),
        (
            ["iou", "--answer", "b", "--no-quiz"],
            "error: `--answer` must not be given with --no-quiz",
        ),
    ],
)
def test_bad_answers_exit_2_before_printing(args, message, capsys) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_unknown_metric_exits_2_with_the_registry_names_on_one_line(capsys) -> None:
    code, out, err = _run(capsys, "hd96x")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: `metric` must be one of 'iou', 'dice'")
    assert all(repr(n) in err for n in METRICS)
    assert err.rstrip().endswith("got 'hd96x'.")


def test_every_quiz_has_three_or_four_choices_and_its_numbers_hold() -> None:
    for topic in TOPICS.values():
        assert 3 <= len(topic.quiz.choices) <= 4
        assert 0 <= topic.quiz.answer < len(topic.quiz.choices)
    from segscore import Counts, iou

    # Dice 0.8 -> IoU 0.667 (tp 4, fp 1, fn 1).
    assert iou(Counts.from_arrays(tp=[[4]], fp=[[1]], fn=[[1]], tn=[[0]]))[0, 0] == pytest.approx(
        2 / 3
    )
    # Three equal touching targets under one prediction: recall@0.5 is 0.
    target = np.array([[1, 1, 2, 2, 3, 3]])
    assert instance_scores(np.ones_like(target), target, "recall@0.5")["recall@0.5"].value == 0
    # One prediction over two equal targets: AJI 0.5, AJI+ 1/3 (CONVENTIONS-objects §3 #8).
    s = instance_scores(np.ones((1, 4), int), np.array([[1, 1, 2, 2]]), ["aji", "aji+"])
    assert (s["aji"].value, s["aji+"].value) == pytest.approx((0.5, 1 / 3))
    # One large lesion exact, two small ones missed: lesion-wise Dice 1/3.
    target = np.zeros((40, 40), bool)
    target[2:20, 2:20] = target[30:33, 30:33] = target[30:33, 2:5] = True
    pred = target.copy()
    pred[30:33] = False
    found = lesion_scores(pred, target, "lesion_dice", dilation=0, min_volume=2)
    assert found["lesion_dice"].value == pytest.approx(1 / 3)
    # A missed lesion of 30 voxels under GLI rules (min volume 50) is counted nowhere.
    volume = np.zeros((12, 12, 12), bool)
    volume[2:4, 2:5, 2:7] = True
    nothing = np.zeros_like(volume)
    gli = lesion_scores(nothing, volume, "lesion_fn", spatial_dims=3)
    kept = lesion_scores(nothing, volume, "lesion_fn", spatial_dims=3, min_volume=0)
    assert (gli["lesion_fn"].value, kept["lesion_fn"].value) == (0, 1)
    # 150 targets, each found exactly: ar100 is 100/150.
    row = np.zeros((1, 300), np.int64)
    row[0, ::2] = np.arange(1, 151)
    assert coco_scores(row, row, [np.ones(150)], "ar100")["ar100"].value == pytest.approx(2 / 3)
    # The same objects, the false positive ranked first or last: AP lower when first.
    pred, target = np.array([[1, 1, 0, 2, 2]]), np.array([[1, 1, 0, 0, 0]])
    first = coco_scores(pred, target, [np.array([0.5, 0.9])], "ap")["ap"].value
    last = coco_scores(pred, target, [np.array([0.9, 0.5])], "ap")["ap"].value
    assert first < last


# --run ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A real `segscore evaluate` folder: a shifted object, a missed one, a merge."""
    root = tmp_path_factory.mktemp("run")
    target = np.zeros((3, 16, 16), np.uint8)
    pred = np.zeros_like(target)
    target[0, 2:8, 2:8] = 1  # shifted by one column
    pred[0, 2:8, 3:9] = 1
    target[1, 10:12, 10:12] = 1  # missed; one stray pixel far away
    pred[1, 0, 0] = 1
    target[2, 2:8, 2:5] = 1  # two objects merged into one prediction
    target[2, 2:8, 6:9] = 1
    pred[2, 2:8, 2:9] = 1
    np.save(root / "pred.npy", pred)
    np.save(root / "gt.npy", target)
    out = root / "out"
    args = ["evaluate", "--pred", str(root / "pred.npy"), "--gt", str(root / "gt.npy")]
    args += ["--out", str(out), "--metrics", "iou,accuracy,hd95,f1@0.5,dice", "--jobs", "1"]
    assert main([*args, "--instances", "components", "--no-report"]) == 0
    return out


def _rows(folder):
    with (folder / "per_case.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("metric", "rule", "expected"),
    [
        (
            "iou",
            "the largest gap between pixel accuracy and IoU",
            lambda r: float(r["accuracy"]) - float(r["iou"]),
        ),
        (
            "accuracy",
            "the largest gap between pixel accuracy and IoU",
            lambda r: float(r["accuracy"]) - float(r["iou"]),
        ),
        (
            "f1@0.5",
            "the largest gap between pixel IoU and F1@0.5",
            lambda r: abs(float(r["iou"]) - float(r["f1@0.5"])),
        ),
        ("hd95", "the largest HD95", lambda r: float(r["hd95"])),
    ],
)
def test_run_points_to_the_case_that_illustrates_the_metric(
    metric, rule, expected, evaluated, capsys
) -> None:
    rows = _rows(evaluated)
    best = max(rows, key=expected)["case"]
    code, out, err = _run(capsys, metric, "--run", str(evaluated), "--no-quiz")
    assert code == 0, err
    section = out.split("\nIn your run\n")[1]
    assert f"Rule: {rule}." in section
    assert f"Case {best}:" in section
    assert explain(metric, run=evaluated).run.case == best


@pytest.fixture(scope="module")
def evaluated_probabilities(tmp_path_factory):
    """A real `segscore evaluate` folder of probability maps (COCO's detection scores)."""
    root = tmp_path_factory.mktemp("probabilities")
    target = np.zeros((3, 16, 16), np.uint8)
    prob = np.zeros(target.shape)
    target[0, 2:8, 2:8] = 1  # found exactly
    prob[0, 2:8, 2:8] = 0.9
    target[1, 2:6, 2:6] = 1  # found, after a surer false positive
    prob[1, 2:6, 2:6] = 0.6
    prob[1, 10:13, 10:13] = 0.95
    target[2, 2:8, 2:5] = 1  # two objects merged into one prediction
    target[2, 2:8, 6:9] = 1
    prob[2, 2:8, 2:9] = 0.8
    np.save(root / "prob.npy", prob)
    np.save(root / "gt.npy", target)
    out = root / "out"
    args = ["evaluate", "--pred", str(root / "prob.npy"), "--gt", str(root / "gt.npy")]
    args += ["--out", str(out), "--metrics", "iou,ap,ar1", "--jobs", "1"]
    assert main([*args, "--instances", "components", "--no-report"]) == 0
    return out


def test_run_points_coco_metrics_to_their_lowest_case(evaluated_probabilities, capsys) -> None:
    rows = [r for r in _rows(evaluated_probabilities) if not math.isnan(float(r["ap"]))]
    best = min(rows, key=lambda r: float(r["ap"]))["case"]
    code, out, err = _run(capsys, "ap", "--run", str(evaluated_probabilities), "--no-quiz")
    assert code == 0, err
    section = out.split("\nIn your run\n")[1]
    assert "Rule: the lowest AP." in section  # pixel IoU knows nothing of the ranking
    assert f"Case {best}:" in section


def _write_folder(folder, rows: list[dict]) -> None:
    """An evaluation folder in `segscore evaluate`'s format (summary.json, per_case.csv)."""
    folder.mkdir()
    columns = list(rows[0])
    with (folder / "per_case.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, [*columns, "status", "error"])
        writer.writeheader()
        writer.writerows({**r, "status": "ok", "error": ""} for r in rows)
    metrics = {c: {"value": 0.5, "n_cases": len(rows)} for c in columns[2:]}
    (folder / "summary.json").write_text(json.dumps({"metrics": metrics}))


@pytest.mark.parametrize(
    ("metric", "rule", "expected"),
    [
        (
            "lesion_dice",
            "the largest gap between pixel Dice and Lesion-wise Dice",
            lambda r: abs(r["dice"] - r["lesion_dice"]),
        ),
        ("lesion_hd95", "the largest Lesion-wise HD95", lambda r: r["lesion_hd95"]),
        ("lesion_tp", "the lowest Lesion TP", lambda r: -r["lesion_tp"]),
        ("lesion_fn", "the largest Lesion FN", lambda r: r["lesion_fn"]),
    ],
)
def test_run_rules_of_the_lesion_metrics(metric, rule, expected, tmp_path, capsys) -> None:
    # `segscore evaluate` does not score lesion metrics yet: a folder in its format, by hand.
    names = ("case", "class", "dice", "lesion_dice", "lesion_hd95", "lesion_tp", "lesion_fn")
    values = [
        ("a", 1, 0.95, 0.40, 150.0, 2, 1),  # a large lesion found, small ones missed
        ("b", 1, 0.70, 0.65, 30.0, 1, 0),
        ("c", 1, 0.50, 0.60, 200.0, 3, 2),
    ]
    rows = [dict(zip(names, v, strict=True)) for v in values]
    _write_folder(tmp_path / "run", rows)
    best = max(rows, key=expected)["case"]
    code, out, err = _run(capsys, metric, "--run", str(tmp_path / "run"), "--no-quiz")
    assert code == 0, err
    section = out.split("\nIn your run\n")[1]
    assert f"Rule: {rule}." in section
    assert f"Case {best}:" in section


def test_the_three_rules_pick_three_different_cases(evaluated) -> None:
    cases = {m: explain(m, run=evaluated).run.case for m in ("iou", "f1@0.5", "dice")}
    assert cases["iou"] == cases["dice"] == "pred[1]"
    assert cases["f1@0.5"] == "pred[2]"


def test_run_without_the_metric_exits_2(evaluated, capsys) -> None:
    code, out, err = _run(capsys, "nsd@1.0", "--run", str(evaluated))
    assert code == 2
    assert out == ""
    assert err.startswith("error: `--run` must be an evaluation folder that scored 'nsd@1.0'")
    assert err.count("\n") == 1


def test_run_that_is_not_an_evaluation_folder_exits_2(tmp_path, capsys) -> None:
    code, _, err = _run(capsys, "iou", "--run", str(tmp_path))
    assert code == 2
    assert err.startswith("error: `--run` needs")
    assert "summary.json" in err
