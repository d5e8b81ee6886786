"""The one A/B runner and the one row formatter of the benchmarks."""
from danet.benchmarks.rows import Table, interleaved, load_cell, shape_cell


def test_interleaved_alternates_sides_and_takes_medians_after_warmup():
    order, values = [], {'a': iter([100, 1, 2, 3]), 'b': iter([100, 10, 30, 20])}

    def side(name):
        def call():
            order.append(name)
            return dict(seconds=next(values[name]))
        return call
    result = interleaved({'a': side('a'), 'b': side('b')}, warmup=1, repeats=3)
    assert order == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']  # warm-up, then A/B, B/A, A/B
    assert result['a'] == {'seconds': 2} and result['b'] == {'seconds': 20}
    assert result['load_start'] >= 0 and result['load_end'] >= 0


def test_table_aligns_header_and_cells_to_the_column_widths():
    table = Table(('<name', 6, 'name:'), ('shape', 9, shape_cell), ('ms', 7, 'ms:.1f'),
                  ('load', 9, load_cell))
    row = table.row(dict(name='dn', shape=[32, 48], ms=3.14159, load_start=1, load_end=2.25))
    assert table.header() == 'name       shape      ms      load'
    assert row == 'dn       32x48       3.1  1.0-2.2 '
    assert len(row) == len(table.header())
