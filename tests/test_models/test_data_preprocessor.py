"""DerainDataPreprocessor: dtype/colour conversion, per-image padding, clear errors."""
import pytest
import torch
from mmengine.dataset import pseudo_collate

from danet.models.data_preprocessor import DerainDataPreprocessor
from danet.structures import DerainSample


def _item(height, width, channels=3, name='x.png'):
    image = torch.randint(0, 256, (channels, height, width), dtype=torch.uint8)
    sample = DerainSample(gt_img=image.clone(), metainfo=dict(name=name))
    return dict(inputs=image, data_samples=sample)


def test_training_batch_is_float_in_unit_range_and_unpadded():
    items = [_item(20, 30), _item(20, 30)]
    out = DerainDataPreprocessor(size_divisor=16)(pseudo_collate(items), training=True)
    assert out['inputs'].shape == (2, 3, 20, 30) and out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'][0], items[0]['inputs'].float() / 255)
    torch.testing.assert_close(out['data_samples'][1].gt_img, items[1]['inputs'].float() / 255)


@pytest.mark.parametrize('size,padded', [((32, 48), (32, 48)), ((50, 70), (64, 80)),
                                         ((31, 17), (32, 32))])
def test_prediction_reflect_pads_right_bottom_and_records_shapes(size, padded):
    item = _item(*size)
    out = DerainDataPreprocessor(size_divisor=16)(pseudo_collate([item]))
    image, meta = out['inputs'], out['data_samples'][0].metainfo
    assert image.shape == (1, 3, *padded)
    assert meta['img_shape'] == size and meta['pad_shape'] == padded and meta['ori_shape'] == size
    torch.testing.assert_close(image[0, :, :size[0], :size[1]], item['inputs'].float() / 255)
    if padded[1] > size[1]:  # reflection: column W mirrors column W-2
        rows = image[0, :, :size[0]]
        torch.testing.assert_close(rows[..., size[1]], rows[..., size[1] - 2])


def test_mixed_sizes_are_padded_per_image_not_to_the_batch():
    out = DerainDataPreprocessor(size_divisor=8)(pseudo_collate([_item(20, 30), _item(30, 20)]))
    assert isinstance(out['inputs'], list)
    assert [tuple(x.shape) for x in out['inputs']] == [(1, 3, 24, 32), (1, 3, 32, 24)]


def test_grayscale_is_replicated_and_recorded():
    out = DerainDataPreprocessor()(pseudo_collate([_item(8, 8, channels=1)]), training=True)
    assert out['inputs'].shape == (1, 3, 8, 8) and out['data_samples'][0].grayscale
    assert out['data_samples'][0].gt_img.shape == (3, 8, 8)
    assert torch.equal(out['inputs'][0, 0], out['inputs'][0, 2])


def test_float_inputs_and_a_stacked_tensor_without_samples_are_accepted():
    batch = torch.rand(2, 3, 10, 10)
    out = DerainDataPreprocessor(size_divisor=4)(dict(inputs=batch))
    assert out['inputs'].shape == (2, 3, 12, 12) and len(out['data_samples']) == 2
    torch.testing.assert_close(out['inputs'][:, :, :10, :10], batch)


def test_bad_inputs_name_the_image():
    with pytest.raises(ValueError, match="'bad.png'.*shape \\(4, 8, 8\\)"):
        DerainDataPreprocessor()(pseudo_collate([_item(8, 8, channels=4, name='bad.png')]))
    with pytest.raises(TypeError, match='int32'):
        DerainDataPreprocessor()(dict(inputs=[torch.zeros(3, 8, 8, dtype=torch.int32)]))
    with pytest.raises(ValueError, match='share one size'):
        DerainDataPreprocessor()(pseudo_collate([_item(8, 8), _item(8, 10)]), training=True)


def test_images_smaller_than_the_pad_are_replicate_padded():
    item = _item(4, 4)
    out = DerainDataPreprocessor(size_divisor=16)(pseudo_collate([item]))['inputs']
    assert out.shape == (1, 3, 16, 16)
    torch.testing.assert_close(out[0, :, 15, 15], item['inputs'][:, 3, 3].float() / 255)


def test_instances_share_no_state():
    first, second = DerainDataPreprocessor(size_divisor=8), DerainDataPreprocessor()
    first.size_divisor = 32
    assert second.size_divisor is None and DerainDataPreprocessor().size_divisor is None
