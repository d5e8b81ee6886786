"""Entry-point wrapper: expected errors end as one line on stderr and exit code 2."""
import argparse
import errno
import sys
from collections.abc import Callable

EXPECTED_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, KeyError,
                   ImportError)
"""Bad input, a missing/refused file or checkpoint, an unknown registry type, a plug-in that cannot
be imported (``danet.utils.config.import_plugins``): the message says
what to fix, so a traceback would only hide it."""


WRITE_ERRNOS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def describe_error(err: Exception) -> str:
    """The one-line message of an expected error or an ``OSError`` (``cannot write PATH: Read-only
    file system`` for a refused write, ``PATH: reason`` for others)."""
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    if isinstance(err, OSError) and err.strerror:
        if err.filename is None:
            return err.strerror
        if err.errno in WRITE_ERRNOS:
            return f'cannot write {err.filename}: {err.strerror}'
        return f'{err.filename}: {err.strerror}'
    return str(err)


def run_main(main: Callable[[], object]) -> None:
    """Call ``main()`` and exit with its return code; an expected error or an ``OSError`` (a
    read-only or full disk, a missing permission) prints ``error: <message>`` and exits 2."""
    try:
        code = main()
    except (*EXPECTED_ERRORS, OSError) as err:
        print(f'error: {describe_error(err)}', file=sys.stderr)
        sys.exit(2)
    sys.exit(code)


def add_revise_keys_option(parser: argparse.ArgumentParser) -> None:
    """``--revise-keys REGEX=REPL`` (repeatable): renames applied to a checkpoint's keys, in
    order (``danet.models.checkpoint.parse_revise_keys``)."""
    parser.add_argument('--revise-keys', action='append', metavar='REGEX=REPL',
                        help="rename checkpoint keys with re.sub, in order (repeatable; default "
                             "'^module\\.=' drops DDP's prefix); REGEX ends at the first '=', "
                             "write an '=' inside it as '\\=' (e.g. '(?\\=x)'); a generator's "
                             'own state dict is placed under generator. automatically')
