"""Find every packed dataset under a folder."""
import json
from pathlib import Path

from danet.datasets import h5format as fmt


def list_packed(root: str | Path) -> list[dict]:
    """One row per ``*.h5`` under ``root`` (hidden partial files excluded; a sharded set is
    listed once, by its index, with ``shards``); files that are not packed datasets, and
    indexes with a shard file missing, get an ``error`` instead of counts."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'folder not found: {root}')
    rows, shard_files = [], set()
    paths = [p for p in sorted(root.rglob('*.h5')) if not p.name.startswith('.')]
    for path in paths:
        try:
            shard_files |= {path.parent / s['file'] for s in fmt.PackedFile(path).shards}
        except ValueError:
            pass
    for path in paths:
        if path in shard_files:
            continue
        try:
            packed = fmt.PackedFile(path)
        except ValueError as err:
            rows.append({'path': str(path), 'error': str(err)})
            continue
        attrs = packed.attrs
        missing = [s['file'] for s in packed.shards if not (path.parent / s['file']).is_file()]
        if missing:  # an index whose shards are gone is not a usable set
            rows.append({'path': str(path), 'error': f'{len(missing)} of {len(packed.shards)} '
                         f'shard file(s) missing beside it: {", ".join(missing)}'})
            continue
        rows.append({'path': str(path), 'rainy': attrs['num_rainy'], 'clean': attrs['num_clean'],
                     'layout': attrs['layout'], 'content_hash': attrs['content_hash'],
                     'source': attrs['source'],
                     'shards': len(json.loads(attrs.get('shards', '[]')))})
    return rows
