# Answer with 48 MB of nested lists: plain data, but millions of objects for whoever decodes it. The
# grader must refuse it without building them (its memory is not the worker's to spend).
def softmax(x):
    return [[] for _ in range(16_000_000)]
