"""The project's commands, each with its own --help:

    python -m multi_output COMMAND --help

    train     train the model and evaluate it on held-out data (train.py)
    tune      search hyperparameters with KerasTuner (tools/tune.py)
    evaluate  a trained run's metrics and plots on a labelled file (tools/evaluate.py)
    predict   a trained run's predictions for a file (tools/predict.py)
    runs      compare runs: their settings, metrics and curves (tools/runs.py)

Each command's module has a `main(argv)` that tests and notebooks can call too.
"""

import importlib
import sys

COMMANDS = {
    "train": "multi_output.train",
    "tune": "multi_output.tools.tune",
    "evaluate": "multi_output.tools.evaluate",
    "predict": "multi_output.tools.predict",
    "runs": "multi_output.tools.runs",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return
    if not argv or argv[0] not in COMMANDS:
        problem = f"unknown command {argv[0]!r}" if argv else "no command"
        print(
            f"error: {problem}; choose one of {', '.join(COMMANDS)} "
            "(python -m multi_output --help)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    main()
