import ctypes


def softmax(x):
    ctypes.string_at(0)
