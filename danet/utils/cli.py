"""Entry-point wrapper: expected errors end as one line on stderr and exit code 2."""
import sys
from collections.abc import Callable

EXPECTED_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, KeyError)
"""Bad input, a missing/refused file or checkpoint, an unknown registry type: the message says
what to fix, so a traceback would only hide it."""


def run_main(main: Callable[[], object]) -> None:
    """Call ``main()`` and exit with its return code; an expected error prints
    ``error: <message>`` and exits 2."""
    try:
        code = main()
    except EXPECTED_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)
    sys.exit(code)
