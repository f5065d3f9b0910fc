"""Per-call resource limits, set inside the worker before each call (grader.limits holds the values
and the sentences; the wall-time limit is enforced from outside).

The memory limit is on address space, and the libraries the grader allows take much of it themselves:
torch and torchvision of the CUDA build map 3.6 GB as soon as they are imported, a CPU build far less.
So that a hand-in gets the same memory whatever build the grader has, the limit counts only what the
hand-in adds. The worker starts with LIBRARY_ROOM above its memory limit, loads its libraries before any
hand-in code runs (settle), and then lowers its hard limit for good to its memory limit above the address
space it has at that moment."""
import resource

LIBRARY_ROOM = 6 << 30   # bytes of address space for the libraries until settle() measures them
_base = [0]              # bytes of address space the worker had when it settled, added to each call's limit


def apply(limits):
    """Soft limits for this call: CPU time counts from now; memory and file size below the hard caps."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + limits['cpu']) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
    for which, value in ((resource.RLIMIT_AS, limits['memory'] + _base[0]), (resource.RLIMIT_FSIZE, limits['output'])):
        hard = resource.getrlimit(which)[1]
        resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def address_space():
    """Bytes of address space this process has mapped (VmSize)."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) << 10 for line in f if line.startswith('VmSize:'))


def settle(torch=False):
    """Load the libraries (torch and torchvision too when asked: for a Q7 test, or a hand-in whose NumPy part
    imports torch), then lower the hard address-space limit for good from the memory limit plus
    LIBRARY_ROOM to the memory limit above what is mapped now. Run at start, before any hand-in code."""
    if torch:
        try:
            import torch as _torch  # noqa: F401
            import torchvision  # noqa: F401
        except ImportError:   # a NumPy-only environment: Q7 says so itself
            pass
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard < LIBRARY_ROOM:
        return
    _base[0] = min(address_space(), LIBRARY_ROOM)
    hard = hard - LIBRARY_ROOM + _base[0]
    resource.setrlimit(resource.RLIMIT_AS, (min(soft, hard), hard))
