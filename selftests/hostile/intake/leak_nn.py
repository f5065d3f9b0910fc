

# Appended to nn.py by selftests/test_hostile_intake.py: softmax puts any of q5.py, q6.py, q7.py that
# reached the hand-in's copy into its own feedback. The cases link those names to files of the host.
import os as _os

_honest_softmax = softmax


def softmax(x):
    here = _os.path.dirname(_os.path.abspath(__file__))
    found = [n for n in ('q5.py', 'q6.py', 'q7.py') if _os.path.exists(_os.path.join(here, n))]
    if found:
        with open(_os.path.join(here, found[0]), 'rb') as f:
            raise RuntimeError(f'LEAKED {found[0]}: ' + f.read(4000).decode('latin-1'))
    return _honest_softmax(x)
