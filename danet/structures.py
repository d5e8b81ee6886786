"""The data sample passed between datasets, the data preprocessor, the model and the metrics."""
from mmengine.structures import BaseDataElement


class RestorationSample(BaseDataElement):
    """One image's data: ``gt_img`` (the target, 3×H×W; absent for unpaired photos) and, after
    prediction, ``pred_img`` (3×H×W float in [0, 1], cropped to ``ori_shape``). The degraded
    input (rainy, hazy, low-light: the task names it) is the batch's ``inputs``.

    Metainfo keys: ``name``, ``ori_shape`` (H, W), ``dataset_hash``, ``testset``.
    """


DerainSample = RestorationSample   # the name before tasks other than deraining (same class)
