"""Record in a model file the fingerprints of the labelled data it was made with, without retraining.

    python scripts/record_data_fingerprints.py                       # the shipped model, MD_DATA_DIR
    python scripts/record_data_fingerprints.py MODEL --data DIR [-o OUT]

`model train` records them itself; this is for model files made before it did. The fingerprints
are computed from DIR under the recipe the file records (training sets and seed); the tensors and
every other metadata entry are copied unchanged. The model version is a hash of the whole file, so
the file gets a new version. Run it only on the data the model was trained with: from then on
`model eval`, `model calibrate` and `model retrain` refuse any other data, and the fingerprints
vouch that the held-out and validation parts of these data were never trained on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.settings import Settings
from sentiment.model import MODEL_FILE, Head, builtin_version
from sentiment.training.finetune import record_fingerprints


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("model", type=Path, nargs="?", default=MODEL_FILE, help="the model file")
    parser.add_argument("--data", type=Path, default=None, help="the data folder (default: MD_DATA_DIR)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write here (default: in place)")
    args = parser.parse_args(argv)
    data = args.data or Settings().data_dir
    before = builtin_version(args.model, Head.load(args.model))
    target = args.output or args.model
    prints = record_fingerprints(args.model, data, target)
    for name, parts in prints.items():
        print(f"{name}: " + "; ".join(f"{part} {p}" for part, p in parts.items()), file=sys.stderr)
    after = builtin_version(target, Head.load(target))
    print(f"wrote {target} (version {before} -> {after})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
