"""Errors kgen reports to the user."""


class KgenError(Exception):
    """A problem the user can fix: the CLI prints it on one line and exits with 2."""


class SmokeTrainError(Exception):
    """The generated project rendered, but its smoke-training run failed."""

    def __init__(self, message: str, log: str | None = None) -> None:
        super().__init__(message)
        self.log = log
