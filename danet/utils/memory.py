"""Memory policy for long-lived processes: keep freed feature maps inside the process.

With glibc's default settings every feature map above 128 KiB (up to 32 MiB, adaptively) is its
own ``mmap``; freeing it returns the pages to the kernel, and the next forward pays a zeroed-page
fault for each 4 KiB again (40k–400k minor faults per DANet forward at 320×480–512²). Which
allocations happen to be recycled depends on the process's history, so timings swing.
``keep_freed_memory`` raises glibc's ``mmap`` threshold to its maximum (32 MiB) and the trim
threshold to 1 GiB (``mallopt``), so freed blocks stay in the heap and are reused: forwards
become faster and stable. Blocks of 32 MiB and more (feature maps of images above ~512²) still
come from ``mmap`` and go back on free, which bounds the peak of huge images; ``DANET_MALLOC=keep``
also keeps those (no ``mmap`` at all: fastest at 1024² and up, but fragmentation raised the
3072×2048 untiled peak from 4.5 to 7.7 GiB), ``DANET_MALLOC=default`` keeps glibc's behaviour.
The process keeps its high-water mark until it exits (figures in ``docs/inference.md``).
Not glibc (macOS, musl): no-op.
"""
import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's ceiling on 64-bit
MODES = ('bounded', 'keep', 'default')
TRIM_THRESHOLD = 1 << 30  # an int for glibc: trim only after 1 GiB is free at the top

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the policy once per process (children forked later inherit it); True if active."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    mode = os.environ.get('DANET_MALLOC', 'bounded').lower()
    if mode not in MODES:
        raise ValueError(f'DANET_MALLOC={mode!r}: use one of {", ".join(MODES)}')
    if mode == 'default':
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mmap = (M_MMAP_MAX, 0) if mode == 'keep' else (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
    return bool(mallopt(*mmap)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def minor_faults() -> int:
    """Minor page faults of this process so far (``getrusage``)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
