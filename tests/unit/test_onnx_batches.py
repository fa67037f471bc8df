"""The fast path hands each core whole batches: a lone batch is halved so no core idles."""

from __future__ import annotations

from sentiment.model import spread


def test_a_lone_batch_is_halved_for_two_cores() -> None:
    assert spread([list(range(32))], 2) == [list(range(16)), list(range(16, 32))]


def test_enough_batches_are_left_as_they_are() -> None:
    batches = [[0, 1], [2, 3], [4]]
    assert spread(batches, 2) == batches


def test_every_text_stays_in_exactly_one_batch() -> None:
    batches = spread([[5], [0, 1, 2, 3, 4, 6, 7]], 4)
    assert len(batches) == 4
    assert sorted(i for b in batches for i in b) == list(range(8))


def test_a_single_text_cannot_be_split() -> None:
    assert spread([[0]], 2) == [[0]]
    assert spread([], 2) == []
