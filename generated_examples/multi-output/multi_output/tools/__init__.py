"""The machinery of the project, which a user rarely edits.

The story (what an example is, the model, the training run) is in the package
above: config.py, model.py (with its custom objects), data.py and train.py. Here
are the file readers and their one-line errors, the settings of flags and config
files, batches, plots, the run directory, and the commands besides train (see
`__main__.py`).
"""
