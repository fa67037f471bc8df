"""`mentiondesk worker`, except that its model holds the second take it is given, for good.

It writes that take's texts, one per line, to the file named by HELD_TAKE_FILE, and holds it until the
process is killed. Every other take goes through the real model. The commit-floor test runs it as a
process: two score agents, one take certainly still in the model while the other agent's is done.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sentiment.model
from mentiondesk.cli import main
from sentiment.model import Score

HELD_CALL = 2


class SecondTakeHeldModel:
    """The worker's model; its HELD_CALL-th call blocks its model thread until the process ends."""

    def __init__(self, model: Any, held_file: Path) -> None:
        self._model = model
        self._held_file = held_file
        self._calls = itertools.count(1)
        self.version: str = model.version

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def score(self, texts: Sequence[str]) -> list[Score]:
        if next(self._calls) == HELD_CALL:
            self._held_file.write_text("".join(f"{text}\n" for text in texts), encoding="utf-8")
            threading.Event().wait()
        scores: list[Score] = self._model.score(texts)
        return scores


def _load_held(settings: Any) -> SecondTakeHeldModel:
    return SecondTakeHeldModel(real_load_model(settings), Path(os.environ["HELD_TAKE_FILE"]))


real_load_model = sentiment.model.load_model

if __name__ == "__main__":
    sentiment.model.load_model = _load_held  # read by the worker command
    sys.argv = ["mentiondesk", "worker"]
    main()
