"""Learning from the desk: agents correct 200 labels on the desk, `mentiondesk model retrain` folds
them in, compares old and new on the held-out sets, switches, and the worker's next model scores with
the new version; careless corrections are refused; `model rollback` goes back. Real model; the
corrections are airline tweets of the real data (`MD_DATA_DIR`) that the shipped model never saw;
the retrains replay, train and compare on a small seeded subset of the real data sets (SUBSET_ROWS
rows of each file, without those tweets), so the whole test takes minutes, not the twenty that the
full sets take; `mentiondesk model retrain` on the full sets is measured in the README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Mention
from core.settings import Settings
from desk.services.corrections import correct_label
from sentiment.model import NegativityModel, load_model
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import TRAIN_SETS, training_pool
from tests.data_subset import write_subset
from tests.desk_support import actor, save, setup_desk
from tests.factories import scored_mention
from tests.support import DATA_DIR, LABELLED_FILES, needs_data, run_cli

pytestmark = needs_data(*LABELLED_FILES)

CORRECTIONS = 200
SUBSET_ROWS = 500  # of each labelled file: held-out parts of about 100 rows per set (417 RuSentiTweet)
REPLAY = 400  # training rows replayed beside the corrections (the command's default is 3,000)
# Largest held-out drop still accepted. The command's default, 0.01, is a property of the full data's
# held-out sets (400 to 2,900 rows each, where the desk's corrections moved no figure by more than
# 0.007 and the careless ones dropped airline macro-F1 by 0.099). On the subset's sets of about 100
# rows a few changed answers move a figure by several hundredths: there the desk's corrections moved
# none by more than 0.06 and the careless ones dropped airline macro-F1 by 0.22 (seeded, measured).
TOLERANCE = 0.1


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
    return ("model", "retrain", "--data", str(data), "--replay", str(REPLAY), "--tolerance", str(TOLERANCE))


@pytest.mark.timeout(1200)
def test_retrain_learns_the_desks_corrections_and_switches_only_when_not_worse(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    model_dir = tmp_path / "models"
    env = {"MD_DATABASE_URL": database_url, "MD_MODEL_DIR": str(model_dir)}
    settings = Settings(database_url=database_url, model_dir=model_dir, model=None)
    old = load_model(settings)

    mistakes, right = airline_rows_never_seen(old)
    assert len(mistakes) == CORRECTIONS
    used = {text for text, _ in mistakes + right}
    data = write_subset(DATA_DIR, tmp_path / "data", SUBSET_ROWS, seed=0, exclude=used)

    # Careless "corrections" first (right labels turned wrong), from an export file: the weights learn
    # them and get worse on held-out data, so the candidate is kept aside and the model in force stays.
    wrong = {"negative": "positive", "neutral": "negative", "positive": "negative"}
    sabotage = tmp_path / "corrections.jsonl"
    sabotage.write_text(
        "".join(json.dumps({"text": t, "label": wrong[lab]}) + "\n" for t, lab in right),
        "utf-8",
    )
    refused = run_cli(*retrain_args(data), "--corrections", str(sabotage), env=env, timeout=900)
    assert refused.returncode == 0, refused.stderr
    assert "kept" in refused.stdout, refused.stdout
    assert load_model(settings).version == old.version

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

    result = run_cli(*retrain_args(data), env=env, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "switched to" in result.stdout, result.stdout
    active = json.loads((model_dir / "active.json").read_text("utf-8"))
    report = json.loads((model_dir / active["version"] / "report.json").read_text("utf-8"))
    assert report["switched"] and report["old_version"] == old.version
    assert report["corrections"]["old_agrees"] == 0
    # Every corrected mention now scores as the agent said (the weights learn part of them; the
    # correction memory holds the rest); nothing else moved past the tolerance.
    assert report["corrections"]["new_agrees"] == CORRECTIONS, report["corrections"]
    assert 0 < report["corrections"]["learned_by_weights"] <= CORRECTIONS
    for name, row in report["held_out"].items():
        for key in ("macro_f1", "negative_f1"):
            assert row["new"][key] >= row["old"][key] - TOLERANCE, (name, key, row)

    new = load_model(settings)
    assert new.version == active["version"] != old.version
    rescored = new.score([t for t, _ in mistakes])
    now_right = sum(s.label == truth for s, (_, truth) in zip(rescored, mistakes, strict=True))
    assert now_right == report["corrections"]["new_agrees"]

    rollback = run_cli("model", "rollback", env=env)
    assert rollback.returncode == 0, rollback.stderr
    assert load_model(settings).version == old.version
