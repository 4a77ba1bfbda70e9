import numpy as np
from matplotlib.image import imread

from multi_input.tools.plots import confusion_counts, learning_curves


def test_learning_curves_draw_a_run_history(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss\n"
        "0,0.5,1.2,0.55,1.1\n"
        "1,0.7,0.8,0.68,0.9\n"
    )
    pixels = imread(learning_curves(history, tmp_path / "curves.png"))
    # Two metrics side by side, 4 x 3.2 inches each at 100 dpi.
    assert pixels.shape[:2] == (320, 800)
    # In the first panel the training (blue) and validation (orange) curves run
    # from the first epoch to the last, across most of its width: more than the
    # short samples of the legend.
    red, blue = pixels[:, :400, 0], pixels[:, :400, 2]
    for curve in (blue > red + 0.2, red > blue + 0.2):
        columns = np.flatnonzero(curve.any(axis=0))
        assert columns.max() - columns.min() > 200


def test_confusion_counts_put_true_classes_in_rows():
    counts = confusion_counts([0, 0, 1, 2, 2], np.array([0, 1, 1, 2, 0]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
