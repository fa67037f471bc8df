"""Learning from the desk: agents correct 200 labels on the desk, `mentiondesk model retrain` folds
them in, decides on the validation parts (never trained on) whether the new model is not worse,
reports the test parts without letting them decide, switches, and the worker's next model scores
with the new version; careless corrections are refused; `model rollback` goes back. Real model; the
corrections are airline tweets of the real data (`MD_DATA_DIR`) that the shipped model never saw;
the retrains replay, train and compare on a small seeded subset of the real data sets (SUBSET_ROWS
rows of each file, without those tweets), so the whole test takes minutes, not the twenty that the
full sets take; `mentiondesk model retrain` on the full sets is measured in the README.

The subset's parts are drawn from the same parts of the full data (`tests.data_subset`), so the
shipped model never trained on the subset's validation or test rows; the model the retrains start
from is the shipped one with the subset's fingerprints recorded (`record_fingerprints`), since
`model retrain` refuses data other than those its model file records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Mention
from core.settings import Settings
from desk.services.corrections import correct_label
from sentiment.model import MODEL_FILE, Head, NegativityModel, builtin_version, load_model
from sentiment.onnx_export import DONE_MARKER
from sentiment.openvino_export import CALIBRATION_TEXTS, quantized_dir
from sentiment.registry import MODEL_NAME, ModelRegistry
from sentiment.training.datasets import BENCHMARKS, load_benchmarks
from sentiment.training.finetune import TRAIN_SETS, recipe_split, record_fingerprints, training_pool
from tests.data_subset import write_subset
from tests.desk_support import actor, save, setup_desk
from tests.factories import scored_mention
from tests.support import DATA_DIR, LABELLED_FILES, needs_data, run_cli

pytestmark = needs_data(*LABELLED_FILES)

CORRECTIONS = 200
SUBSET_ROWS = 900  # of each labelled file: validation parts of 72 rows per set (91 RuSentiTweet),
SUBSET_TEST_ROWS = 100  # test parts of about 180 (RuSentiTweet's official test file: this many)
REPLAY = 400  # training rows replayed beside the corrections (the command's default is 3,000)
# The command's default tolerance decides. On validation parts of 72 rows a figure moves by several
# hundredths for one or two changed answers, so only falls beyond chance count (McNemar). Measured,
# seeded, on this subset: the desk's corrections lowered TweetEval's validation negative F1 by 0.147
# (3 answers lost, 4 gained on the negative-or-not decision: z -0.38) and nothing beyond chance (largest
# z 1.0), so they are switched in; the careless ones lowered RuSentiTweet's macro-F1 by 0.110 (14
# lost, 3 gained: z 2.67) and airline's by 0.187 (z 1.81), past the one-sided 5% mark of 1.645.
# Corrections the weights alone get right after the retrain (use_memory=False), of CORRECTIONS:
# measured 46 on this subset (48 on the 500-row subset; 43 in the full-data run of the README).
LEARNED_BY_WEIGHTS_FLOOR = 25


def airline_rows_never_seen(model: NegativityModel) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Airline tweets outside the model's training rows and the held-out sets, split into the model's
    mistakes and its right answers, each with the true label."""
    benches = load_benchmarks(DATA_DIR)
    trained = {e.text for e in training_pool(benches, TRAIN_SETS)}
    airline = next(b for b in benches if b.name == "airline")
    held_out = set(airline.test.texts)
    unseen = [
        (text, str(label))
        for text, label in zip(airline.train.texts, airline.train.labels, strict=True)
        if text not in trained and text not in held_out
    ]
    mistakes: dict[str, str] = {}
    right: list[tuple[str, str]] = []
    for start in range(0, len(unseen), 256):
        chunk = unseen[start : start + 256]
        for (text, truth), score in zip(chunk, model.score([t for t, _ in chunk]), strict=True):
            if score.label == truth:
                right.append((text, truth))
            else:
                mistakes.setdefault(text, truth)
        if len(mistakes) >= CORRECTIONS and len(right) >= CORRECTIONS:
            break
    return list(mistakes.items())[:CORRECTIONS], right[:CORRECTIONS]


def retrain_args(data: Path) -> tuple[str, ...]:
    return ("model", "retrain", "--data", str(data), "--replay", str(REPLAY))


@pytest.mark.timeout(1200)
def test_retrain_learns_the_desks_corrections_and_switches_only_when_not_worse(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    model_dir = tmp_path / "models"
    env = {"MD_DATABASE_URL": database_url, "MD_MODEL_DIR": str(model_dir)}
    # the retrain's figures are the torch path's (the reference); the fast form is made after a switch
    settings = Settings(database_url=database_url, model_dir=model_dir, model=None, inference="torch")
    committed = load_model(settings)

    mistakes, right = airline_rows_never_seen(committed)
    assert len(mistakes) == CORRECTIONS
    used = {text for text, _ in mistakes + right}
    data = write_subset(
        DATA_DIR, tmp_path / "data", SUBSET_ROWS, seed=0, exclude=used, test_rows=SUBSET_TEST_ROWS
    )
    # The shipped model (same tensors) recording the subset's fingerprints, put in force.
    base = model_dir / "subset-base" / MODEL_NAME
    assert set(record_fingerprints(MODEL_FILE, data, base)) == set(BENCHMARKS)
    ModelRegistry(model_dir).activate(base, builtin_version(base, Head.load(base)))
    old = load_model(settings)

    # Careless "corrections" first (right labels turned wrong), from an export file: the weights learn
    # them and get worse on validation data beyond chance, so the candidate is kept aside and the
    # model in force stays.
    wrong = {"negative": "positive", "neutral": "negative", "positive": "negative"}
    sabotage = tmp_path / "corrections.jsonl"
    sabotage.write_text(
        "".join(json.dumps({"text": t, "label": wrong[lab]}) + "\n" for t, lab in right),
        "utf-8",
    )
    refused = run_cli(*retrain_args(data), "--corrections", str(sabotage), env=env, timeout=900)
    assert refused.returncode == 0, refused.stderr
    assert "kept" in refused.stdout, refused.stdout
    print(refused.stdout)
    careless = json.loads(next(model_dir.glob("*/report.json")).read_text("utf-8"))
    assert careless["blocking"] and not careless["accepted"], careless["blocking"]
    assert load_model(settings).version == old.version
    assert "fast path ready" not in refused.stdout, "nothing is made for a model that is not switched to"

    # Agents correct the mistakes on the desk.
    migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    setup_desk(sessions)
    save(sessions, [scored_mention(f"fix-{i}", text=t, lang="en") for i, (t, _) in enumerate(mistakes)])
    with sessions.begin() as session:
        ids = {m.external_id: m.id for m in session.scalars(select(Mention))}
        for i, (_, truth) in enumerate(mistakes):
            correct_label(session, actor("anna"), ids[f"fix-{i}"], truth)
    engine.dispose()

    # The workers serve int8 on OpenVINO (as "auto" does on a CPU with int8 dot products): the switch
    # makes the new model's int8 form, calibrated on the dev part of the data given (`--data`), so no
    # worker spends its first minute calibrating it.
    on_int8 = {"MD_INFERENCE": "fast", "MD_FAST_RUNTIME": "openvino", "MD_FAST_PRECISION": "int8"}
    cache = tmp_path / "cache"  # the built encoder, and no OpenVINO model of any version yet
    cache.mkdir()
    for built in Path(Settings().model_cache_dir).iterdir():
        if built.name != "openvino":
            (cache / built.name).symlink_to(built)
    workers_env = {**env, **on_int8, "MD_MODEL_CACHE_DIR": str(cache)}
    result = run_cli(*retrain_args(data), env=workers_env, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "switched to" in result.stdout, result.stdout
    active = json.loads((model_dir / "active.json").read_text("utf-8"))
    int8_folder = quantized_dir(cache, active["version"])
    made = f"fast path ready (openvino, int8, {active['version']}): {int8_folder}"
    assert made in result.stdout, result.stdout
    int8_meta = json.loads((int8_folder / DONE_MARKER).read_text("utf-8"))
    assert int8_meta["model_file"] == str(model_dir / active["version"] / MODEL_NAME), int8_meta
    dev_rows = len(recipe_split(load_benchmarks(data), TRAIN_SETS, 0)[1])
    assert int8_meta["calibration"] == f"{min(CALIBRATION_TEXTS, dev_rows)} texts of the dev part", int8_meta
    report = json.loads((model_dir / active["version"] / "report.json").read_text("utf-8"))
    assert report["switched"] and report["old_version"] == old.version
    assert report["corrections"]["old_agrees"] == 0
    # Every corrected mention now scores as the agent said (the weights learn part of them; the
    # correction memory holds the rest); no validation figure fell beyond the tolerance and chance.
    assert report["corrections"]["new_agrees"] == CORRECTIONS, report["corrections"]
    learned = report["corrections"]["learned_by_weights"]
    print(f"corrections learned by the weights alone: {learned} of {CORRECTIONS}")
    assert LEARNED_BY_WEIGHTS_FLOOR <= learned <= CORRECTIONS, report["corrections"]

    # The validation parts (the recipe's dev rows) decided; the test parts are only reported.
    assert report["decided_on"]["part"] == "validation" and report["reported"]["part"] == "test"
    assert report["decided_on"]["sets"] == report["reported"]["sets"] == list(BENCHMARKS)
    benches = load_benchmarks(data)
    _, dev = recipe_split(benches, TRAIN_SETS, 0)
    for bench in benches:
        decided, reported = report["validation"][bench.name], report["test"][bench.name]
        assert decided["old"]["n"] == sum(e.group == bench.name for e in dev) > 0
        assert reported["old"]["n"] == len(bench.test)
    assert report["blocking"] == {}, report["validation"]
    print(
        json.dumps(
            {p: {n: (r["change"], r["paired"]) for n, r in report[p].items()} for p in ("validation", "test")}
        )
    )

    new = load_model(settings)
    assert new.version == active["version"] != old.version
    rescored = new.score([t for t, _ in mistakes])
    now_right = sum(s.label == truth for s, (_, truth) in zip(rescored, mistakes, strict=True))
    assert now_right == report["corrections"]["new_agrees"]

    rollback = run_cli("model", "rollback", env=env)
    assert rollback.returncode == 0, rollback.stderr
    assert load_model(settings).version == committed.version
