"""Errors of the evaluation package that lower modules raise and callers catch."""


class UnscorableImage(ValueError):
    """An image a metric cannot score (too small, flat); the message says why. Folder evaluation
    without a reference records it per image instead of stopping."""
