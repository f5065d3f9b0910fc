"""The trusted side of the boundary around untrusted code: grader.isolation.WorkerImplementation runs a
submission in a sandboxed worker process (sandbox: what it can see; process: one running worker;
proxies: the grader's view of its objects; client: the implementation-under-test interface on top).
What runs inside the worker is the package grader.worker, copied whole."""
from grader.isolation.client import ENV_VAR, OUT_OF_TIME, WorkerImplementation  # noqa: F401
from grader.isolation.sandbox import status  # noqa: F401
