"""The one gate for user-given names that become paths.

Test-set names, ``--testset``, ``--suffix``, method and grid labels, scaffold names: each becomes
(part of) a file or folder name, so each passes :func:`check_name` before any work starts, and a
list of them passes :func:`check_unique`. A refused name raises :class:`BadNameError` (a
``ValueError``: the command line prints it as one ``error:`` line and exits 2). Entry points and
their test: docs/reliability.md.
"""
import unicodedata
from collections.abc import Iterable

MAX_BYTES = 200
"""Longest name in UTF-8 bytes (file systems allow 255; the rest is left for suffixes)."""
GLOB_CHARACTERS = '*?[]'
"""Refused: a name is also a glob pattern where the tools look for its files."""


class BadNameError(ValueError):
    """A user-given name that would not stay inside its folder, or collides with another."""


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is safe as one path component, else raise naming ``what``.

    Refused: empty names, ``/`` or ``\\``, ``..`` anywhere, a leading dot, control, format or
    other non-printing characters (undecodable bytes of a file name included), white space
    other than inner spaces, glob characters ``*?[]``, and names over 200 UTF-8 bytes.
    """
    if not isinstance(name, str):
        raise BadNameError(f'{what}: expected a name, got {type(name).__name__} {name!r}')
    if not name:
        raise BadNameError(f'{what}: the name is empty')
    problem = _problem(name)
    if problem:
        raise BadNameError(f'{what} {name!r}: {problem} (a name becomes a file name: use '
                           'letters, digits, spaces, "-", "_", "+" or "." inside)')
    return name


def _problem(name: str) -> str | None:
    if '/' in name or '\\' in name:
        return 'contains a path separator'
    if '..' in name:
        return "contains '..'"
    if name.startswith('.'):
        return 'starts with a dot'
    if any(unicodedata.category(c)[0] in 'CZ' and c != ' ' for c in name):
        return 'contains a control or non-printing character'
    if name != name.strip(' '):
        return 'starts or ends with a space'
    if any(c in GLOB_CHARACTERS for c in name):
        return f'contains a glob character ({GLOB_CHARACTERS})'
    if len(name.encode()) > MAX_BYTES:
        return f'is longer than {MAX_BYTES} bytes'
    return None


def check_unique(names: Iterable[str], what: str) -> list[str]:
    """Check every name and refuse repeats, compared as the file system may: case-insensitively
    (macOS, Windows) and after Unicode normalisation (``é`` composed or not is one file)."""
    seen: dict[str, str] = {}
    out = []
    for name in names:
        check_name(name, what)
        key = unicodedata.normalize('NFC', name).casefold()
        if key in seen:
            raise BadNameError(f'{what} {name!r} is given twice'
                               + ('' if seen[key] == name else f' (as {seen[key]!r})'))
        seen[key] = name
        out.append(name)
    return out
