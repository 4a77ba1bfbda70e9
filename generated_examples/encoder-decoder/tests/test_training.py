import json

import pytest

from encoder_decoder.config import TrainConfig
from encoder_decoder.train import main, train


def test_training_learns_the_built_in_task(tmp_path):
    config = TrainConfig(epochs=8, steps_per_epoch=80, output_dir=str(tmp_path))
    results = train(config)
    # 640 steps: a one-layer siamese encoder is at 0.66 pair accuracy after 320.
    # Chance token accuracy is 0.31 (words 1 in 6, the end token sure).
    assert results["accuracy"] > 0.41
    assert (tmp_path / "best.keras").is_file()
    assert json.loads((tmp_path / "metrics.json").read_text()) == results


def test_missing_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path / "missing.npz"), "--output-dir", str(tmp_path)])
    assert "missing.npz does not exist" in str(exit_info.value)
