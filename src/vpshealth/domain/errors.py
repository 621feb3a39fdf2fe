"""Errors shared by every layer."""


class ParseError(ValueError):
    """Remote output could not be understood. The message says which part and why, briefly,
    without echoing large chunks of the output."""
