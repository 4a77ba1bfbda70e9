"""Pair accuracy on a predicted distance. Labels: 1 = same pair, 0 = different pair."""

import keras


def distance_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `distance < threshold` agrees with the label, else 0.0."""
    same = keras.ops.reshape(
        keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred)
    )
    predicted_same = keras.ops.cast(y_pred < threshold, y_pred.dtype)
    return keras.ops.cast(keras.ops.equal(same, predicted_same), y_pred.dtype)


@keras.saving.register_keras_serializable(package="siamese")
class DistanceAccuracy(keras.metrics.MeanMetricWrapper):
    """Share of pairs called right when "same" means a distance below `threshold`."""

    def __init__(self, threshold=0.5, name="pair_accuracy", dtype=None):
        super().__init__(distance_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}
