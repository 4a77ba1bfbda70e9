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


@keras.saving.register_keras_serializable(package="siamese")
class DistanceAUC(keras.metrics.AUC):
    """ROC AUC of a distance: how well it ranks same pairs before different ones.

    Keras's AUC reads scores in [0, 1] where higher means "same"; exp(-distance) is
    one, in the same order as the distance, so the area is the distance's own.
    """

    def __init__(self, num_thresholds=1000, name="roc_auc", dtype=None, **kwargs):
        super().__init__(
            num_thresholds=num_thresholds, name=name, dtype=dtype, **kwargs
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, keras.ops.exp(-y_pred), sample_weight)
