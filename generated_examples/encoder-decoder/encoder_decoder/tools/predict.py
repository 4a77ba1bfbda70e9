"""Decode with a trained model: the greedy decoding of every source in a file.

python -m encoder_decoder predict RUN --data FILE --out OUT

Per row: `source` as the model read it (lowercased text, [unk] for words outside
its vocabulary; your token ids for a file of ids) and `prediction`, the decoded
target text. The data needs no target column.
"""

import argparse
from pathlib import Path

import numpy as np

from encoder_decoder.model import build_inference_models, decode_sequence
from encoder_decoder.tools.evaluate import trained_model
from encoder_decoder.tools.readers import DataError, write_file
from encoder_decoder.tools.schema import as_text, read_tokens


def predict(run_dir, data_path, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Every source of `data_path` and its decoding, as text."""
    model, schema = trained_model(Path(run_dir))
    source, _ = read_tokens(data_path, schema, targets=False)
    encoder, decoder = build_inference_models(model)
    length = schema.lengths["target"]
    decoded = decode_sequence(encoder, decoder, source, length, batch_size)
    return {
        "source": np.array(as_text(source, schema, "source")),
        "prediction": np.array(as_text(decoded, schema)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m encoder_decoder predict",
        description="Predict with a trained model, one row per example of a file.",
        allow_abbrev=False,
    )
    parser.add_argument("run_dir", help="a training run's --output-dir")
    parser.add_argument(
        "--data", required=True, help="a file with the training data's feature columns"
    )
    parser.add_argument(
        "--out", required=True, help="where to write them: .csv, .parquet or .npz"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --out file that exists (never the --data file)",
    )
    args = parser.parse_args(argv)
    if Path(args.out).suffix not in (".csv", ".parquet", ".npz"):
        parser.error(f"--out {args.out}: name a .csv, .parquet or .npz file")
    if Path(args.out).resolve() == Path(args.data).resolve():
        parser.exit(2, f"error: --out {args.out} is the --data file: name another\n")
    if Path(args.out).exists() and not args.overwrite:
        parser.exit(
            2, f"error: --out {args.out} exists: name another, or add --overwrite\n"
        )
    try:
        columns = predict(args.run_dir, args.data)
        write_file(columns, args.out)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    rows = len(next(iter(columns.values())))
    print(f"Predictions for {rows} examples: {args.out}")


if __name__ == "__main__":
    main()
