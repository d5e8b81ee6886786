"""Benchmarks (``tools/benchmark_*.py``): latency, training-step and loader speed, the engine's
options, and ours against the authors' code re-stated (``reference.py``). Not the user's API
(``danet.apis``); nothing below this package imports it."""
