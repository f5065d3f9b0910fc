# nested_lists, with the worker's own check on what it sends switched off from inside (the hand-in runs in
# the worker's process): over a million nested lists reach the pipe, and the grader's reader must refuse
# them before building them, and stop the worker.
import sys

sys.modules['grader.worker.wire'].MAX_ITEMS = 10 ** 9


def softmax(x):
    return [[] for _ in range(1_200_000)]
