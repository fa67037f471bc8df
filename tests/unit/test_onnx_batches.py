"""Each core runs whole batches: a lone batch is halved so no core idles, and the longest go first."""

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


def test_the_longest_batches_run_first_so_a_call_ends_on_short_ones() -> None:
    """Each free core takes the next batch: longest first, no core waits long for the last one."""
    import numpy as np

    from sentiment.model import embed_side_by_side

    lengths = [7, 120, 3, 64, 15, 90, 33, 5, 48, 2]
    seqs = [[1] * n for n in lengths]
    order: list[int] = []

    def run(batch: list[int]) -> np.ndarray:
        order.append(max(lengths[i] for i in batch))
        return np.array([[float(lengths[i])] for i in batch], dtype=np.float32)

    out = np.zeros((len(seqs), 1), dtype=np.float32)
    embed_side_by_side(seqs, run, out, batch_size=3, runners=None, workers=2)

    assert order == sorted(order, reverse=True) and order[0] == 120
    assert out[:, 0].tolist() == [float(n) for n in lengths], "every text's row is its own"


def test_a_take_is_cut_into_equal_batches_one_set_per_core() -> None:
    from sentiment.model import balanced_batch_size

    assert balanced_batch_size(40, 32, 2) == 20, "20 and 20, not 32 beside 8"
    assert balanced_batch_size(128, 32, 2) == 32
    assert balanced_batch_size(100, 32, 2) == 25
    assert balanced_batch_size(70, 32, 2) == 18
    assert balanced_batch_size(1, 32, 2) == 1
    assert balanced_batch_size(40, 32, 1) == 32, "one core: full batches"
    for count in range(1, 300):
        size = balanced_batch_size(count, 32, 2)
        batches = -(-count // size)
        assert size <= 32 and (batches % 2 == 0 or count == 1), (count, size)


def test_a_batch_is_padded_to_its_longest_text_or_to_the_next_multiple_asked() -> None:
    from sentiment.onnx_export import pad_batch

    seqs = [[5, 6, 7], [8] * 10, [9]]
    exact = pad_batch(seqs, pad_id=1)
    assert exact["input_ids"].shape == (3, 10)
    stepped = pad_batch(seqs, pad_id=1, multiple=8)
    assert stepped["input_ids"].shape == stepped["attention_mask"].shape == (3, 16)
    # every text keeps its own tokens and mask; the extra width is padding, masked out
    assert stepped["input_ids"][0].tolist() == [5, 6, 7] + [1] * 13
    assert stepped["attention_mask"].sum(axis=1).tolist() == [3, 10, 1]
    assert pad_batch([[4] * 16], pad_id=1, multiple=8)["input_ids"].shape == (1, 16)


def test_a_batch_of_more_than_two_is_filled_with_its_last_row_up_to_the_multiple() -> None:
    from sentiment.onnx_encoder import fill_rows

    rows = [[1, 2], [3], [4, 5, 6]]
    assert fill_rows(rows, 4) == [[1, 2], [3], [4, 5, 6], [4, 5, 6]]
    assert [len(fill_rows([[7]] * n, 4)) for n in range(1, 11)] == [1, 2, 4, 4, 8, 8, 8, 8, 12, 12]
    assert fill_rows(rows, 1) == rows
