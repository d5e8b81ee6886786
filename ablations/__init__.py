"""Ablation grids as data (``ablations/<grid>.py``) and the runner ``python -m ablations``."""
