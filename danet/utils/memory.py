"""Memory policy for long-lived processes: keep freed feature maps inside the process.

With glibc's default settings every feature map above 128 KiB (up to 32 MiB, adaptively) is its
own ``mmap``; freeing it returns the pages to the kernel, and the next forward pays a zeroed-page
fault for each 4 KiB again (40k–400k minor faults per DANet forward at 320×480–512²). Which
allocations happen to be recycled depends on the process's history, so timings swing.
``keep_freed_memory`` turns ``mmap`` allocations off and raises the trim threshold (``mallopt``),
so freed blocks stay in the heap and are reused: forwards become faster and stable. The cost is
that the process keeps its high-water mark until it exits (measured in ``docs/inference.md``).
Set ``DANET_MALLOC=default`` to keep glibc's behaviour. Not glibc (macOS, musl): no-op.
"""
import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
TRIM_THRESHOLD = 1 << 30  # an int for glibc: trim only after 1 GiB is free at the top

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the policy once per process (children forked later inherit it); True if active."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get('DANET_MALLOC', '').lower() == 'default':
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def minor_faults() -> int:
    """Minor page faults of this process so far (``getrusage``)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
