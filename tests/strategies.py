"""Hypothesis strategies for the graded tests. Shapes, names and scales come from Hypothesis (so they
shrink to small, readable cases); array values come from a NumPy generator seeded by Hypothesis, which
keeps values continuous (no accidental ties or exact zeros) and every example reproducible."""
import numpy as np
from hypothesis import strategies as st

from grader.worker.activations import PAIRS

dims = st.integers(min_value=1, max_value=12)
names = st.sampled_from(['', 'layer1', 'output', 'hidden', 'hidden2', 'x'])
activations = st.sampled_from(sorted(PAIRS))
seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)


@st.composite
def matrices(draw, rows=dims, cols=dims, scale=st.sampled_from([1e-3, 1.0, 10.0, 100.0, 1000.0])):
    """A float64 matrix of random shape; scale up to 1000 so that overflow bugs show."""
    n, m, s, seed = draw(rows), draw(cols), draw(scale), draw(seeds)
    return np.random.default_rng(seed).normal(scale=s, size=(n, m))


@st.composite
def layers(draw):
    """One layer's inputs: X (N x D), W (D x H), b (H,), a parameter name and an activation name."""
    n, d, h, seed = draw(dims), draw(dims), draw(dims), draw(seeds)
    rng = np.random.default_rng(seed)
    return dict(X=rng.uniform(-1, 1, (n, d)), W=rng.normal(scale=1 / np.sqrt(d), size=(d, h)),
                b=rng.normal(scale=0.5, size=h), name=draw(names), activation=draw(activations), seed=seed)


@st.composite
def one_hot_and_probs(draw):
    """One-hot labels and row-stochastic probabilities (strictly positive) of the same random shape."""
    n, c, seed = draw(dims), draw(st.integers(2, 12)), draw(seeds)
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=draw(st.sampled_from([0.1, 1.0, 5.0])), size=(n, c))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    y = np.eye(c)[rng.integers(0, c, n)]
    return y, probs


@st.composite
def labelled_data(draw, min_n=1, max_n=200):
    """x whose first column is a unique example id, y the one-hot of that id: pairs can be checked."""
    n = draw(st.integers(min_n, max_n))
    ids = np.random.default_rng(draw(seeds)).permutation(n)
    x = np.stack([ids, -ids, ids * 0.5], axis=1).astype(float)
    y = np.eye(n)[ids]
    return x, y
