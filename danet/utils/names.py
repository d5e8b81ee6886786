"""The one gate for user-given names that become paths.

Test-set names, ``--testset``, ``--suffix``, method and grid labels, scaffold names: each becomes
(part of) a file or folder name, so each passes :func:`check_name` before any work starts, and a
list of them passes :func:`check_unique`. A refused name raises :class:`BadNameError` (a
``ValueError``: the command line prints it as one ``error:`` line and exits 2).
"""
import unicodedata
from collections.abc import Iterable


class BadNameError(ValueError):
    """A user-given name that would not stay inside its folder, or collides with another."""


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is safe as one path component, else raise naming ``what``.

    Refused: empty names, ``/`` or ``\\``, ``..`` anywhere, a leading dot, control or other
    non-printing characters, a NUL, and names over 200 characters.
    """
    if not isinstance(name, str) or not name:
        raise BadNameError(f'{what}: the name is empty')
    problem = _problem(name)
    if problem:
        raise BadNameError(f'{what} {name!r}: {problem} (a name becomes a file name: use '
                           'letters, digits, "-", "_", "+", "=" or "." inside)')
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
    if name != name.strip():
        return 'starts or ends with white space'
    if len(name) > 200:
        return 'is longer than 200 characters'
    return None


def check_unique(names: Iterable[str], what: str) -> list[str]:
    """Check every name and refuse repeats (case-insensitively: two files on macOS/Windows)."""
    seen: dict[str, str] = {}
    out = []
    for name in names:
        check_name(name, what)
        key = name.casefold()
        if key in seen:
            raise BadNameError(f'{what} {name!r} is given twice'
                               + ('' if seen[key] == name else f' (as {seen[key]!r})'))
        seen[key] = name
        out.append(name)
    return out
