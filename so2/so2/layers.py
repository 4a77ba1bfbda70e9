"""Custom layers, registered so `.keras` files load with the default `safe_mode`."""

import keras


@keras.saving.register_keras_serializable(package="so2")
class WeightedAverage(keras.layers.Layer):
    """Average of same-shape inputs with one learned weight per input.

    The weights are the softmax of trainable logits: positive and summing to 1, so
    the output stays an average while training decides which branch counts most.
    """

    def build(self, input_shape):
        self.branch_logits = self.add_weight(
            shape=(len(input_shape),),
            initializer="zeros",
            trainable=True,
            name="branch_logits",
        )

    def call(self, inputs):
        weights = keras.ops.softmax(self.branch_logits)
        return keras.ops.sum(keras.ops.stack(inputs, axis=-1) * weights, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
