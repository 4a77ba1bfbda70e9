"""kgen: generate Keras 3 training projects from architecture patterns."""

__version__ = "0.16.0"
