"""Task-neutral names: the old derain names still build the same classes, old configs hash as
before the rename, and folder and packed datasets take their file under the same argument."""
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from danet.registry import DATASETS, METRICS, MODELS, RENAMED_TYPES
from danet.structures import DerainSample, RestorationSample
from danet.utils.provenance import config_hash
from tests.test_engine.conftest import REPO_ROOT


@pytest.mark.parametrize('new,old', RENAMED_TYPES.items())
def test_old_type_names_build_the_same_class(new, old):
    registry = METRICS if new.endswith('Metric') else MODELS
    assert registry.get(old) is registry.get(new)
    assert DerainSample is RestorationSample


def test_a_config_hashes_the_same_under_old_and_new_type_names():
    path = str(REPO_ROOT / 'configs' / 'danet' / 'danet_1xb16-1000e_rain13k.py')
    cfg, old = Config.fromfile(path), Config.fromfile(path)
    new = config_hash(cfg)
    old.model.type = 'DerainModel'
    old.model.data_preprocessor.type = 'DerainDataPreprocessor'
    old.test_evaluator = [dict(type='Evaluator', metrics=[dict(type='DerainMetric')])
                          for _ in old.test_evaluator]
    assert cfg.model.type == 'RestorationModel'
    assert config_hash(old) == new
    # a real change still changes the hash
    old.model.generator.n_feat = 32
    assert config_hash(old) != new


def test_folder_and_packed_datasets_take_their_file_as_ann_file(tmp_path):
    for folder in ('hazy', 'clean'):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((8, 8, 3), 9, np.uint8)).save(tmp_path / folder / 'a.png')
    folder = DATASETS.build(dict(type='FolderPairedDataset', ann_file=str(tmp_path)))
    item = folder[0]
    assert item['inputs'].shape == (3, 8, 8) and 'gt_img' in item['data_samples']
    assert folder.testset == tmp_path.name
