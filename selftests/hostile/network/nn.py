# Phone home (to 127.0.0.1 only): the selftest listens on PORT (it sets the number to a free port of its
# run) and fails if anything connects.
import socket

PORT = None


def softmax(x):
    try:
        with socket.create_connection(('127.0.0.1', PORT), timeout=2) as s:
            s.sendall(b'leak')
    except OSError as exc:
        raise RuntimeError(f'no network: {exc}')
    raise RuntimeError('network reached')
