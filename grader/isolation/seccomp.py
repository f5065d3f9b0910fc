"""A seccomp filter for the worker (bubblewrap's --seccomp): the system calls that would let a hand-in hold
memory outside every process's address space are refused.

The memory limit bounds what a process maps (RLIMIT_AS), and the grader adds up what a hand-in's processes
map (grader.isolation.process). A memfd's pages (memfd_create) or a System V shared-memory segment (shmget)
need not be mapped by anyone: 16 MB per memfd (the output limit) times thousands of open files, or
segments of any size, would be memory that nothing counts. Both calls fail with ENOSYS, as on a kernel
without them, so libraries fall back as they would there. Every call through another table (a 64-bit
process's 32-bit calls, x86_64's x32 calls) is refused too: the numbers below would not catch them there."""
import platform
import struct

ENOSYS = 38

# (seccomp's audit architecture, {name: number}) of the machines the grader runs on
TABLES = {
    'x86_64': (0xC000003E, {'memfd_create': 319, 'shmget': 29}),
    'aarch64': (0xC00000B7, {'memfd_create': 279, 'shmget': 194}),
}
X32_BIT = 0x40000000   # x86_64's x32 calls: the same numbers with this bit set

_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_ARCH_OFFSET, _NR_OFFSET = 4, 0   # in struct seccomp_data


def program(machine=None):
    """The filter as bytes of struct sock_filter (what bubblewrap reads), or None on a machine not in
    TABLES (the worker then runs without it)."""
    machine = machine or platform.machine()
    if machine not in TABLES:
        return None
    arch, calls = TABLES[machine]
    refused = list(calls.values())
    # a jump skips that many instructions after itself: 'deny' is the last one
    code = [(_LD_W_ABS, 0, 0, _ARCH_OFFSET),
            (_JEQ_K, 1, 0, arch),                        # our architecture: go on; else deny
            (_RET_K, 0, 0, _ERRNO | ENOSYS),
            (_LD_W_ABS, 0, 0, _NR_OFFSET)]
    if machine == 'x86_64':
        code.append((_JGE_K, len(refused) + 1, 0, X32_BIT))   # an x32 call: deny
    code += [(_JEQ_K, len(refused) - i, 0, nr) for i, nr in enumerate(refused)]   # a refused call: deny
    code += [(_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, _ERRNO | ENOSYS)]
    return b''.join(struct.pack('=HBBI', *op) for op in code)   # native byte order, as the kernel reads it
