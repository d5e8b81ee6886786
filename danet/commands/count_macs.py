"""Count a generator's parameters and MACs (one multiply-add = one MAC).

    python -m danet count-macs configs/_base_/models/danet.py --shape 3 256 256 --out c.json
    python -m danet count-macs configs/_base_/models/danet.py configs/_base_/models/mprnet.py \
        --variant plain_alm model.generator.alm.type=PlainALM

One config and no ``--variant`` prints a per-module table; otherwise one comparison table with a
row per config and per variant (variants apply their overrides to the first config). ``--out``
writes the report (a list of reports when comparing) as JSON. Logic: ``danet/apis/macs.py``;
``tools/count_macs.py`` is a shim.
"""
import argparse

from mmengine.config import DictAction

from danet.apis.macs import count_macs


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet count-macs',
                                               description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='config files with a model.generator')
    parser.add_argument('--shape', nargs=3, type=int, default=[3, 256, 256],
                        metavar=('C', 'H', 'W'))
    parser.add_argument('--out', help='JSON file for the report(s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to every config, e.g. model.generator.n_feat=32')
    parser.add_argument('--variant', nargs='+', action='append', default=[],
                        metavar=('LABEL', 'KEY=VALUE'),
                        help='a comparison row: the first config with these overrides')
    return parser


def run(args) -> None:
    count_macs(args.configs, args.shape, args.cfg_options, args.variant, args.out)


def main(argv=None) -> None:
    return run(build_parser().parse_args(argv))
