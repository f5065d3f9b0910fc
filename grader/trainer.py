"""The course's Q7 training loop, run by the grader where a submission's own ``train_model`` failed 7.1.1
(grader.pieces): the questions after it still train the submission's models, so one broken loop is
charged once.

The loop lives here, in the trusted process, and drives the model where it lives: ``torch`` is the torch
module itself when the submission is imported into pytest, or a handle to the worker's torch when it
is isolated, and every step is a call on the model's own objects. No course code enters the worker.
The steps are those SPEC.md and the stub describe (Adam on the parameters that require gradients,
cross-entropy on raw scores, a fresh random order every epoch), in the order the reference takes them,
so the numbers match a run of the reference's train_model."""
import numpy as np

from grader import torch_eval


def train_model(torch, model, x, y, epochs, learning_rate, batch_size):
    """Train ``model`` in place on float32 ``x`` and int class indices ``y``; one (mean loss, training
    accuracy) pair per epoch."""
    n = len(x)
    as_tensor, index_select, eq = torch.as_tensor, torch.index_select, torch.eq
    xt = as_tensor(np.ascontiguousarray(x, dtype=np.float32))
    yt = as_tensor(np.ascontiguousarray(y, dtype=np.int64))
    optimizer = torch.optim.Adam(torch_eval.probe(model, 'trainable'), lr=learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    zero_grad, step = optimizer.zero_grad, optimizer.step
    history = []
    model.train()
    for _ in range(epochs):
        total, correct = 0.0, 0
        order = np.asarray(torch.randperm(n).numpy())
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            idx = as_tensor(batch)
            yb = index_select(yt, 0, idx)
            scores = model(index_select(xt, 0, idx))
            loss = loss_fn(scores, yb)
            zero_grad()
            loss.backward()
            step()
            total += float(loss.item()) * len(batch)
            correct += int(eq(scores.argmax(1), yb).sum().item())
        history.append((total / n, correct / n))
    return history
