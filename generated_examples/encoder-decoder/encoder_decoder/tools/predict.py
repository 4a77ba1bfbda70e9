"""Decode with a trained model: the greedy decoding of every source in a file.

python -m encoder_decoder predict RUN --data FILE --out OUT

Per row: `source` as the model read it (lowercased text, [unk] for words outside
its vocabulary; your token ids for a file of ids) and `prediction`, the decoded
target text. The data needs no target column. Data that `train` would stream (a
folder or glob of files, or files over STREAM_ABOVE bytes: tools/streaming.py) is
read and decoded a block of rows at a time, and the rows are written to OUT as
they come.
"""

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from encoder_decoder.model import build_inference_models, decode_sequence
from encoder_decoder.tools.evaluate import trained_model
from encoder_decoder.tools.readers import DataError, write_blocks
from encoder_decoder.tools.schema import as_text, read_tokens
from encoder_decoder.tools.streaming import input_blocks, join, streams


def predict(run_dir, data_path, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Every source of `data_path` and its decoding, as text."""
    return join(list(predict_blocks(run_dir, data_path, batch_size)))


def predict_blocks(
    run_dir, data_path, batch_size: int = 256
) -> Iterator[dict[str, np.ndarray]]:
    """The decodings of `predict`, a block of sources at a time: all of them for a
    file read whole, BLOCK_BATCHES batches for a streamed one."""
    model, schema = trained_model(Path(run_dir))
    if streams(data_path):
        inputs = input_blocks(data_path, schema, batch_size)
        blocks = (block["source"] for block in inputs)
    else:
        blocks = [read_tokens(data_path, schema, targets=False)[0]]
    encoder, decoder = build_inference_models(model)
    length = schema.lengths["target"]
    for source in blocks:
        decoded = decode_sequence(encoder, decoder, source, length, batch_size)
        yield {
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
        rows = write_blocks(predict_blocks(args.run_dir, args.data), args.out)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"Predictions for {rows} examples: {args.out}")


if __name__ == "__main__":
    main()
