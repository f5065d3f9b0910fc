import time


def softmax(x):
    time.sleep(10 ** 6)
