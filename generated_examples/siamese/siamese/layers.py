"""Custom layers, registered so `.keras` files load with the default `safe_mode`."""

import keras


@keras.saving.register_keras_serializable(package="siamese")
class EuclideanDistance(keras.layers.Layer):
    """Euclidean distance between two embeddings, shape (batch, 1)."""

    def __init__(self, epsilon=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs):
        left, right = inputs
        squared = keras.ops.sum(keras.ops.square(left - right), axis=-1, keepdims=True)
        # The floor keeps the gradient of sqrt finite for identical embeddings.
        return keras.ops.sqrt(keras.ops.maximum(squared, self.epsilon))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
