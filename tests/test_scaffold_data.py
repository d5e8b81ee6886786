"""The scaffold's config trains on the shipped Train40 as written and its hint is the docs'."""
from pathlib import Path

from ablations.__main__ import main as ablations
from danet.__main__ import main as danet_main
from danet.registry import DATASETS
from danet.scaffold import next_steps
from danet.utils.config import check_dataset_paths, load_config

REPO = Path(__file__).resolve().parents[1]


def test_the_scaffold_trains_on_the_shipped_train40_as_written(shared_data, tmp_path,
                                                                monkeypatch, capsys,
                                                                forget_package):
    forget_package('mynet')
    monkeypatch.setenv('DANET_SHARED', str(shared_data.parent))
    assert danet_main(['new-model', 'mynet', '--out', str(tmp_path / 'pkg')]) == 0
    hint = capsys.readouterr().out.splitlines()[-1]
    assert hint == next_steps('mynet', tmp_path / 'pkg') and 'train40.py' in hint
    assert next_steps('mynet', Path('../mynet')) in (REPO / 'docs' / 'extending.md').read_text()

    monkeypatch.syspath_prepend(str(tmp_path / 'pkg'))
    cfg = load_config(tmp_path / 'pkg' / 'configs' / 'mynet_1xb18-100e_train40.py')
    check_dataset_paths(cfg, ('train_dataloader', 'val_dataloader', 'test_dataloader.0.',
                              'test_dataloader.1.'))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) == len(list((shared_data / 'Train40' / 'rainy').iterdir()))
    item = train[0]
    assert tuple(item['inputs'].shape) == (3, 100, 100)
    assert ablations(['plan', str(tmp_path / 'pkg' / 'grids' / 'mynet_components.py')]) == 0
    assert 'runs lack data' not in capsys.readouterr().err   # every loader of every run found
