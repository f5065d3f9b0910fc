"""Code that runs inside the isolated worker process (and, where the trusted side needs the same
thing, shared with it: the wire format, the named activations). Copied whole into the sandbox, so it
imports only the standard library, NumPy/SciPy/scikit-image/torch and itself (a selftest checks it)."""
