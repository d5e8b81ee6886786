"""DANet research platform: the importable library (MMEngine registry scope ``danet``)."""

__version__ = '0.1.0'
