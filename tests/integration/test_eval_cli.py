"""`mentiondesk eval` as users run it: the real built-in model on a tiny data folder in the shared
data's file formats; report.json, the reliability PNGs and the printed tables."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentiment.model import MODEL_FILE, Head, builtin_version
from sentiment.registry import MODEL_NAME, ModelRegistry
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import record_fingerprints
from tests.support import run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ("negative", "neutral", "positive")
RU = {
    "negative": "Ужасный сервис, заказ номер {i} так и не привезли, верните деньги!",
    "neutral": "Магазин номер {i} работает с девяти утра до восьми вечера.",
    "positive": "Огромное спасибо курьеру номер {i}, всё привезли вовремя, очень довольна!",
}
EN = {
    "negative": "Flight {i} delayed again and my bag is lost, worst airline ever",
    "neutral": "Flight {i} departs from gate 12 at 9am tomorrow.",
    "positive": "Thank you for flight {i}, the crew was amazing and the seats were great!",
}
# Rows of each set's test part, with the rows written below: RuSentiTweet's official test file (12
# after its skip row is dropped) and a 20% hold-out per label (2 of 10) for the corpus and the
# airline set. TweetEval's part is read from the loader, whose policy for it is its own.
WRITTEN_TEST_N = {"rusentitweet": 12, "opensentimentcorpus": 6, "airline": 6}


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _rows(templates: dict[str, str], per_label: int, start: int = 0) -> list[tuple[str, str]]:
    return [(templates[lab].format(i=start + i), lab) for lab in LABELS for i in range(per_label)]


def write_data(folder: Path) -> None:
    """Every set's files, with rows a loader must drop (RuSentiTweet's skip, the corpus's mixed)."""
    rst = folder / "rusentitweet"
    train = _rows(RU, 2, start=100)
    _write_csv(rst / "rusentitweet_train.csv", ["text", "label", "id"], [[t, lab, "1"] for t, lab in train])
    test = [[t, lab, str(n)] for n, (t, lab) in enumerate(_rows(RU, 4))]
    test.insert(3, ["бэк дор соти https://t.co/x", "skip", "99"])
    _write_csv(rst / "rusentitweet_test.csv", ["text", "label", "id"], test)

    osc = [[t, lab] for t, lab in _rows(RU, 10, start=200)] + [["То ли хорошо, то ли плохо.", "mixed"]]
    _write_csv(
        folder / "opensentimentcorpus" / "opensentimentcorpus-final-by-majority.csv",
        ["Sentence", "Sentiment"],
        osc,
    )

    tweeteval = folder / "tweeteval-sentiment"
    tweeteval.mkdir(parents=True)
    rows = _rows(EN, 4)
    codes = {lab: str(i) for i, lab in enumerate(LABELS)}
    (tweeteval / "val_text.txt").write_text("".join(f"{t}\n" for t, _ in rows), encoding="utf-8")
    (tweeteval / "val_labels.txt").write_text("".join(f"{codes[lab]}\n" for _, lab in rows), encoding="utf-8")

    airline = [[str(570000 + n), lab, t] for n, (t, lab) in enumerate(_rows(EN, 10, start=300))]
    _write_csv(
        folder / "twitter-us-airline-sentiment" / "Tweets.csv",
        ["tweet_id", "airline_sentiment", "text"],
        airline,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_data(folder)
    return folder


@pytest.fixture(scope="module")
def stamped(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped model (same tensors) recording this tiny folder's fingerprints: the shipped file
    records the real data's, and `eval` refuses any other data."""
    model_file = tmp_path_factory.mktemp("stamped") / MODEL_NAME
    record_fingerprints(MODEL_FILE, data_dir, model_file)
    return model_file


@pytest.fixture(scope="module")
def model_env(stamped: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment that puts the stamped model in force."""
    folder = tmp_path_factory.mktemp("models")
    ModelRegistry(folder).activate(stamped, builtin_version(stamped, Head.load(stamped)))
    return {"MD_MODEL_DIR": str(folder)}


def _check_figures(entry: dict[str, Any], n: int) -> None:
    assert entry["n"] == n
    matrix = entry["confusion"]
    assert len(matrix) == 3 and all(len(row) == 3 for row in matrix)
    assert sum(map(sum, matrix)) == n
    assert entry["accuracy"] == pytest.approx(sum(matrix[i][i] for i in range(3)) / n, abs=1e-4)
    assert sum(b["count"] for b in entry["reliability"]) == n
    for key in (
        "macro_f1",
        "negative_f1",
        "negative_precision",
        "negative_recall",
        "argmax_macro_f1",
        "argmax_negative_f1",
        "confidence_ece",
        "negativity_ece",
    ):
        assert 0.0 <= entry[key] <= 1.0, key
    for b in entry["reliability"]:
        assert b["lo"] <= b["mean_negativity"] <= b["hi"]
        assert 0.0 <= b["observed_negative_rate"] <= 1.0


def _check_png(folder: Path, entry: dict[str, Any]) -> None:
    png = folder / entry["reliability_png"]
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_eval_reports_every_set_and_pools_each_language(
    data_dir: Path, model_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "report"

    result = run_cli("eval", "--data", str(data_dir), "--output", str(out), env=model_env)

    assert result.returncode == 0, result.stderr
    tests = {b.name: b.test for b in load_benchmarks(data_dir)}
    expected_n = {name: len(part) for name, part in tests.items()}
    assert {name: expected_n[name] for name in WRITTEN_TEST_N} == WRITTEN_TEST_N
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["model_version"] and report["data_dir"] == str(data_dir)
    measured = datetime.fromisoformat(report["measured_at"])
    assert measured.utcoffset() == timedelta(0)
    assert list(report["sets"]) == list(expected_n)
    assert list(report["languages"]) == ["all ru", "all en"]

    for name, entry in report["sets"].items():
        _check_figures(entry, expected_n[name])
        assert entry["sets"] == [name]
        true_counts = tests[name].counts()
        assert [sum(row) for row in entry["confusion"]] == [true_counts.get(lab, 0) for lab in LABELS]
        _check_png(out, entry)
    assert report["sets"]["rusentitweet"]["language"] == "ru"
    assert report["sets"]["airline"]["language"] == "en"

    for language, members in {
        "ru": ["rusentitweet", "opensentimentcorpus"],
        "en": ["tweeteval", "airline"],
    }.items():
        pooled = report["languages"][f"all {language}"]
        assert pooled["language"] == language and pooled["sets"] == members
        _check_figures(pooled, sum(expected_n[m] for m in members))
        matrices = [report["sets"][m]["confusion"] for m in members]
        assert pooled["confusion"] == [
            [a + b for a, b in zip(*rows, strict=True)] for rows in zip(*matrices, strict=True)
        ]
        _check_png(out, pooled)
    assert len(list(out.glob("*.png"))) == 6

    lines = result.stdout.splitlines()
    header = "| data set | language | macro-F1 | F1 negative | recall negative | accuracy | ECE | n |"
    table = lines[lines.index(header) : lines.index(header) + 8]
    assert [line.split(" | ")[0].lstrip("| ") for line in table[2:]] == [*expected_n, "all ru", "all en"]
    assert table[-1].endswith(f" | {expected_n['tweeteval'] + expected_n['airline']} |")
    assert result.stdout.count("rows true, columns predicted") == 6
    assert str(out / "report.json") in result.stdout


def test_model_eval_is_the_same_command_limited_by_sets(
    data_dir: Path, model_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "one"

    result = run_cli(
        "model", "eval", "--data", str(data_dir), "--output", str(out), "--sets", "tweeteval", env=model_env
    )

    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert list(report["sets"]) == ["tweeteval"]
    assert list(report["languages"]) == ["all en"]
    alone, pooled = report["sets"]["tweeteval"], report["languages"]["all en"]
    different = {"sets", "reliability_png"}
    assert {k: v for k, v in alone.items() if k not in different} == {
        k: v for k, v in pooled.items() if k not in different
    }
    assert sorted(p.name for p in out.glob("*.png")) == [
        "reliability-all-en.png",
        "reliability-tweeteval.png",
    ]


def test_unknown_set_is_refused_before_the_model_loads(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli(
        "eval", "--data", str(data_dir), "--output", str(tmp_path / "x"), "--sets", "tweeteval,nosuch"
    )

    assert result.returncode == 1
    assert "unknown data sets ['nosuch']" in result.stderr
    assert not (tmp_path / "x").exists()


def test_model_calibrate_refits_calibration_and_keeps_the_trained_weights(
    data_dir: Path, stamped: Path, tmp_path: Path
) -> None:
    """`model calibrate` rewrites only the calibration and thresholds of a model file, fitted on the
    dev part of the model's own recipe, and reports every set's figures beside it."""
    import shutil

    from safetensors.numpy import load_file

    from sentiment.model import read_scalings

    model = tmp_path / "model.safetensors"
    shutil.copy(stamped, model)
    before = load_file(str(model))

    result = run_cli("model", "calibrate", "--data", str(data_dir), "--model", str(model))

    assert result.returncode == 0, result.stderr
    after = load_file(str(model))
    assert sorted(after) == sorted(before)
    for name, tensor in before.items():
        assert (after[name] == tensor).all(), f"{name} changed: only the calibration may"
    meta = Head.load(model).meta or {}
    scalings = read_scalings(meta)
    # The tiny folder's dev part holds a few rows per language: too few for a language of its own.
    assert set(scalings) == {"*"}
    assert json.loads(meta["thresholds"]).keys() == {"*"}
    assert meta["recipe"] == (Head.load(MODEL_FILE).meta or {})["recipe"]
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["test"]) == {"rusentitweet", "opensentimentcorpus", "tweeteval", "airline"}
    assert metrics["test"]["rusentitweet"]["n"] == WRITTEN_TEST_N["rusentitweet"]
    assert metrics["calibration"]["*"] == scalings["*"].to_json()


def test_model_calibrate_refuses_a_missing_model_file(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.safetensors"
    result = run_cli("model", "calibrate", "--data", str(data_dir), "--model", str(missing))
    assert result.returncode == 2
    assert "no model file" in result.stderr
