"""Parameter and MAC counting for generators, with fvcore.

One multiply-add is one MAC (fvcore calls it a "flop"). ``MAC_HANDLES`` is the whole table of
counted ops, built from fvcore's public handles (the same rules as fvcore's defaults):
convolutions, matmuls, norms, bilinear/nearest upsampling (4/1 per output element) and adaptive
average pooling. Element-wise ops and pixel (un)shuffle get explicit zero-MAC handles, so they are
listed by name with their call counts in ``counted_ops`` instead of being dropped; whatever has no
handle at all is reported in ``unsupported_ops``. Handles are installed with fvcore's public
``clear_op_handles``/``set_op_handle``.
"""
import warnings
from collections import Counter

import torch
from mmengine.registry import init_default_scope
from torch import nn

from danet.registry import MODELS
from danet.utils.config import check_cfg_options, load_config

with warnings.catch_warnings():  # fvcore scripts its focal loss at import (deprecated in torch)
    warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated',
                            category=FutureWarning)
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import (
        addmm_flop_jit,
        batchnorm_flop_jit,
        bmm_flop_jit,
        conv_flop_jit,
        einsum_flop_jit,
        elementwise_flop_counter,
        linear_flop_jit,
        matmul_flop_jit,
        norm_flop_counter,
    )

MAC_HANDLES = {
    'aten::_convolution': conv_flop_jit, 'aten::addmm': addmm_flop_jit, 'aten::bmm': bmm_flop_jit,
    'aten::einsum': einsum_flop_jit, 'aten::matmul': matmul_flop_jit, 'aten::mm': matmul_flop_jit,
    'aten::linear': linear_flop_jit, 'aten::batch_norm': batchnorm_flop_jit,
    'aten::group_norm': norm_flop_counter(2), 'aten::layer_norm': norm_flop_counter(2),
    'aten::instance_norm': norm_flop_counter(1),
    'aten::upsample_nearest2d': elementwise_flop_counter(0, 1),
    'aten::upsample_bilinear2d': elementwise_flop_counter(0, 4),
    'aten::adaptive_avg_pool2d': elementwise_flop_counter(1, 0),
    'aten::grid_sampler': elementwise_flop_counter(0, 4),  # bilinear
}

ZERO_MAC_OPS = (
    'aten::add', 'aten::add_', 'aten::sub', 'aten::rsub', 'aten::mul', 'aten::mul_', 'aten::div',
    'aten::abs', 'aten::sigmoid', 'aten::prelu', 'aten::mean', 'aten::amax',
    'aten::pixel_shuffle', 'aten::pixel_unshuffle')


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of distinct parameters (a shared PReLU counts once, as ``parameters()`` does)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def generator_cfg_from_config(path: str, cfg_options: dict | None = None) -> dict:
    """``model.generator`` of an MMEngine config file, after checked ``--cfg-options`` overrides."""
    cfg = load_config(path)
    cfg.merge_from_dict(check_cfg_options(cfg, cfg_options))
    generator = cfg.get('model', {}).get('generator')
    if generator is None:
        raise KeyError(f'{path}: no model.generator in this config')
    return generator.to_dict() if hasattr(generator, 'to_dict') else dict(generator)


def _counting(name: str, handle, calls: Counter, macs: Counter):
    """Wrap an fvcore handle (``None``: zero MACs) to tally its calls and MACs per op."""
    def counted(inputs, outputs):
        result = handle(inputs, outputs) if handle is not None else 0
        calls[name] += 1
        macs[name] += sum(result.values()) if isinstance(result, Counter) else result
        return result
    return counted


def complexity_report(generator: nn.Module | dict, shape=(3, 256, 256),
                      depth: int = 2) -> dict:
    """Params and MACs of ``generator`` (a module or a config built under scope ``danet``).

    Returns a JSON-ready dict: ``model``, ``shape``, ``params``, ``macs``, ``gmacs``,
    ``per_module`` ({name: {params, macs}} for modules up to ``depth`` levels deep),
    ``counted_ops`` ({op: {calls, macs}}) and ``unsupported_ops`` ({op: calls}).
    """
    if isinstance(generator, dict):
        init_default_scope('danet')
        generator = MODELS.build(generator)
    generator.eval()
    analysis = FlopCountAnalysis(generator, torch.rand(1, *shape))
    calls, op_macs = Counter(), Counter()
    analysis.clear_op_handles()
    for op, handle in [*MAC_HANDLES.items(), *((op, None) for op in ZERO_MAC_OPS)]:
        analysis.set_op_handle(op, _counting(op, handle, calls, op_macs))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings('none')
    with torch.no_grad():
        macs = int(analysis.total())
    modules = dict(generator.named_modules())
    per_module = {name: dict(params=count_parameters(modules[name]), macs=int(count))
                  for name, count in analysis.by_module().items()
                  if name and name.count('.') < depth and name in modules}
    return dict(
        model=type(generator).__name__, shape=list(shape), params=count_parameters(generator),
        macs=macs, gmacs=macs / 1e9, per_module=per_module,
        counted_ops={op: dict(calls=n, macs=int(op_macs[op])) for op, n in sorted(calls.items())},
        unsupported_ops=dict(sorted(analysis.unsupported_ops().items())))


def format_module_table(report: dict) -> str:
    """Per-module table (params, GMACs), children indented under their parents."""
    lines = [f'{"module":<40}{"params":>12}{"GMACs":>10}']
    for name, row in report['per_module'].items():
        label = '  ' * name.count('.') + name
        lines.append(f'{label:<40}{row["params"]:>12,}{row["macs"] / 1e9:>10.3f}')
    lines.append(f'{"total (" + report["model"] + ")":<40}{report["params"]:>12,}'
                 f'{report["gmacs"]:>10.3f}')
    if report['unsupported_ops']:
        lines.append('not counted (no handle): ' + ', '.join(
            f'{op} x{n}' for op, n in report['unsupported_ops'].items()))
    return '\n'.join(lines)


def format_compare_table(reports: dict[str, dict]) -> str:
    """One row per labelled report: params, GMACs, MACs relative to the first row."""
    first = next(iter(reports.values()))['macs']
    width = max(len('variant'), *map(len, reports)) + 2
    lines = [f'{"variant":<{width}}{"params":>12}{"GMACs":>10}{"vs first":>10}  not counted']
    for label, report in reports.items():
        missing = ', '.join(report['unsupported_ops']) or '-'
        lines.append(f'{label:<{width}}{report["params"]:>12,}{report["gmacs"]:>10.3f}'
                     f'{report["macs"] / first:>10.1%}  {missing}')
    return '\n'.join(lines)
