"""The ``pack`` options that decide a stored train/val split: defined once, for ``pack`` and for
``verify``'s re-check of the split labels against the recorded command."""
import argparse


def add_split_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--val-fraction', type=float, default=0.0,
                        help='store a train/val split by background with this val share')
    parser.add_argument('--split-seed', type=int, default=0)
