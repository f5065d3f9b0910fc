"""Per-call resource limits, set inside the worker before each call (grader.limits holds the values
and the sentences; the wall-time limit is enforced from outside)."""
import resource


def apply(limits):
    """Soft limits for this call: CPU time counts from now; memory and file size below the hard caps."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + limits['cpu']) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
    for which, value in ((resource.RLIMIT_AS, limits['memory']), (resource.RLIMIT_FSIZE, limits['output'])):
        hard = resource.getrlimit(which)[1]
        resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
