"""The one way a benchmark times two sides and the one way it prints a row.

``interleaved``: calls alternate between the sides (A/B, B/A, ...) after ``warmup`` untimed
rounds, so load spikes hit both alike; per side the median of every measured key, and the load
average over the timed rounds. ``Table``: fixed-width columns, a header line and one line per row.
"""
import os
import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> Callable[[], dict]:
    """``fn`` as a measurement: ``{'seconds': wall time of one call}``."""
    def call() -> dict:
        start = time.perf_counter()
        fn()
        return dict(seconds=time.perf_counter() - start)
    return call


def interleaved(sides: dict[str, Callable[[], dict]], warmup: int, repeats: int) -> dict:
    """``{side: {key: median}}`` of ``repeats`` calls per side (each call returns a dict of
    figures, ``timed`` for plain wall time), plus ``load_start`` and ``load_end``."""
    pair = list(sides.items())
    for _ in range(warmup):
        for _, call in pair:
            call()
    load = os.getloadavg()[0]
    got = {name: [] for name in sides}
    for r in range(repeats):
        for name, call in (pair if r % 2 == 0 else pair[::-1]):
            got[name].append(call())
    medians = {name: {key: statistics.median(c[key] for c in calls) for key in calls[0]}
               for name, calls in got.items()}
    return dict(medians, load_start=load, load_end=os.getloadavg()[0])


def shape_cell(row: dict) -> str:
    return f'{row["shape"][0]:>4}x{row["shape"][1]:<4}'


def load_cell(row: dict) -> str:
    return f'{row["load_start"]:4.1f}-{row["load_end"]:<4.1f}'


class Table:
    """Columns ``(title, width, cell)``; ``cell`` is ``'key:spec'`` (``format(row[key], spec)``)
    or a function ``row -> str``; a title starting with ``<`` is left-aligned."""

    def __init__(self, *columns: tuple[str, int, str | Callable[[dict], str]]):
        self.columns = columns

    @staticmethod
    def _align(title: str) -> tuple[str, str]:
        return ('<', title[1:]) if title.startswith('<') else ('>', title)

    def header(self) -> str:
        return ' '.join(f'{name:{align}{width}}' for align, name, width in
                        ((*self._align(title), width) for title, width, _ in self.columns))

    def row(self, row: dict) -> str:
        cells = []
        for title, width, cell in self.columns:
            if callable(cell):
                text = cell(row)
            else:
                key, _, spec = cell.partition(':')
                text = format(row[key], spec)
            cells.append(f'{text:{self._align(title)[0]}{width}}')
        return ' '.join(cells)
