"""Q4 (the course's q4.py and run_q4.py): find the handwritten characters on a page photo, then read
the page with the Q3 MLP. ``CLASSES`` and ``draw_boxes`` are given.

Run ``python q4.py PARAMS.npz IMAGE...`` to draw the boxes over each page (PNG files) and print the
text read from it; PARAMS.npz holds the trained Q3 weights ('Wlayer1', 'blayer1', 'Woutput',
'boutput'), as ``python q3.py`` writes them to q3_figures/q3_params.npz."""
import numpy as np
import skimage
import skimage.color
import skimage.filters
import skimage.measure
import skimage.morphology
import skimage.transform
from nn import *

CLASSES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'   # the order of NIST36's one-hot labels


# Q 4.2
def findLetters(image):
    """Boxes of the handwritten characters on a page photo.

    image: RGB float image (as skimage.img_as_float(skimage.io.imread(...))).
    Returns (bboxes, bw): bboxes is a list of [y1, x1, y2, x2] (top-left inclusive, bottom-right
    exclusive, as regionprops' bbox), one per character; bw is a float image of the page's shape in
    [0, 1] with the characters black (0) on white (1)."""
    raise NotImplementedError("findLetters (Q4.2): denoise, threshold, morphology, label; return (bboxes, bw)")


# Q 4.4
def group_lines(bboxes):
    """The boxes grouped into lines of text, top line first, each line's boxes left to right.

    Returns a list of lists of [y1, x1, y2, x2]. Taken by vertical centre, a box starts a new line when
    it lies wholly below every box of the current line (lines of handwriting do not overlap)."""
    raise NotImplementedError("group_lines (Q4.4): cluster the boxes into rows of text, each sorted left to right")


# Q 4.4
def crop_letters(bw, line):
    """The characters of one line as NIST36 rows: each box's crop of bw, padded to a square with a
    white margin, resized to 32x32, transposed and flattened. Returns an (n, 1024) array in [0, 1]."""
    raise NotImplementedError("crop_letters (Q4.4): crop, pad to a square, resize to 32x32, transpose, flatten")


# Q 4.4
def read_page(image, params):
    """The text of a page photo, one string per line of handwriting (top to bottom), read with the Q3
    MLP in params ('Wlayer1', 'blayer1', 'Woutput', 'boutput'); words may be separated by spaces."""
    raise NotImplementedError("read_page (Q4.4): findLetters, group_lines, crop_letters, then classify with the MLP")


def draw_boxes(image, bboxes, path, title=''):
    """Given: the page with a red rectangle per box, written to `path`."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.patches
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(10, 10 * image.shape[0] / image.shape[1]))
    plt.imshow(image)
    for y1, x1, y2, x2 in bboxes:
        plt.gca().add_patch(matplotlib.patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                                         edgecolor='red', linewidth=1))
    plt.axis('off')
    plt.title(title)
    fig.savefig(path, dpi=100, bbox_inches='tight')
    plt.close(fig)


if __name__ == '__main__':
    import os
    import sys
    import skimage.io
    if len(sys.argv) < 3:
        sys.exit('usage: python q4.py PARAMS.npz IMAGE...')
    weights = dict(np.load(sys.argv[1]))
    for path in sys.argv[2:]:
        image = skimage.img_as_float(skimage.io.imread(path))
        boxes, _ = findLetters(image)
        name = os.path.splitext(os.path.basename(path))[0]
        draw_boxes(image, boxes, f'q4_{name}_boxes.png', f'{name}: {len(boxes)} boxes')
        print(f'{name}:')
        for line in read_page(image, weights):
            print('  ' + line)
