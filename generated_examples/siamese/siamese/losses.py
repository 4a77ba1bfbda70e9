"""The contrastive loss. Labels: 1 = same pair, 0 = different pair."""

import keras


@keras.saving.register_keras_serializable(package="siamese")
class ContrastiveLoss(keras.losses.Loss):
    """Contrastive loss (Hadsell, Chopra & LeCun, 2006) on a predicted distance.

    Same pairs (label 1) are pulled together by `distance ** 2`; different pairs
    (label 0) are pushed apart until their distance exceeds `margin`.
    """

    def __init__(self, margin=1.0, name="contrastive_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = margin

    def call(self, y_true, y_pred):
        # Labels may come as (batch,) or (batch, 1); align them with the distances.
        same = keras.ops.reshape(
            keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred)
        )
        pull = same * keras.ops.square(y_pred)
        push = (1.0 - same) * keras.ops.square(keras.ops.relu(self.margin - y_pred))
        return keras.ops.mean(pull + push, axis=-1)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}
