"""The architecture patterns the built-in template knows, with one-line descriptions.

Kept as plain data so `kgen patterns` and `kgen --help` stay fast; a test checks that
these match the `pattern` choices of `templates/keras/copier.yml`.
"""

PATTERNS: dict[str, str] = {
    "siamese": "two inputs through one shared encoder, scored by a distance",
    "parallel": "N branches over one input, merged into one classification head",
    "multi-input": "one layer shared across several inputs of different widths",
    "multi-output": "one trunk, named heads with their own loss, weight and metrics",
    "encoder-decoder": "seq2seq sharing one recurrent layer, with greedy decoding",
}
