# Answer with 9 MB of nested lists: plain data, but three million objects for whoever decodes it (48 MB
# made 2.3 GB in the old grader). The grader must refuse it without building them; the worker refuses to
# send it before encoding it (6 s a call), and the grader's reader refuses it should a hostile worker send it.
def softmax(x):
    return [[] for _ in range(3_000_000)]
