# Phone home (to 127.0.0.1 only): the selftest listens on PORT and fails if anything connects.
import socket

PORT = 47913


def softmax(x):
    try:
        with socket.create_connection(('127.0.0.1', PORT), timeout=2) as s:
            s.sendall(b'leak')
    except OSError as exc:
        raise RuntimeError(f'no network: {exc}')
    raise RuntimeError('network reached')
