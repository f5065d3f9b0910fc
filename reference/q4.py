"""Q4 of the course (q4.py and run_q4.py): find the handwritten characters on a page photo, then read
the page with the Q3 MLP.

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
    gray = skimage.color.rgb2gray(image[..., :3]) if image.ndim == 3 else np.asarray(image, float)
    scale = max(1.0, min(gray.shape) / 400.0)            # stroke-sized operations grow with the photo
    smooth = skimage.filters.gaussian(gray, sigma=scale)
    # uneven light: divide by the paper's brightness, estimated by a wide blur of the page
    paper = skimage.filters.gaussian(skimage.morphology.closing(smooth, skimage.morphology.footprint_rectangle(
        (int(8 * scale) | 1,) * 2)), sigma=8 * scale)
    flat = smooth / np.maximum(paper, 1e-3)
    ink = flat < min(skimage.filters.threshold_otsu(flat), 0.85)
    # join broken strokes of one character (but not neighbouring characters), and an i's dot to its stem
    # (taller than wide), to find its box; bw keeps the strokes as written, so a crop of it shows the
    # character's holes and stroke width
    joined = skimage.morphology.closing(ink, skimage.morphology.footprint_rectangle(
        (int(6 * scale) | 1, int(3 * scale) | 1)))
    regions = skimage.measure.regionprops(skimage.measure.label(joined, connectivity=2))
    areas = np.array([r.area for r in regions]) if regions else np.zeros(0)
    # drop specks, periods and JPEG noise: far smaller than a typical character
    keep = [r for r in regions if r.area >= 0.15 * np.median(areas[areas >= 20 * scale ** 2])] \
        if np.any(areas >= 20 * scale ** 2) else []
    bboxes = [list(r.bbox) for r in keep]
    return bboxes, 1.0 - ink.astype(float)


# Q 4.4
def group_lines(bboxes):
    """The boxes grouped into lines of text, top line first, each line's boxes left to right.

    Returns a list of lists of [y1, x1, y2, x2]. Taken by vertical centre, a box starts a new line when
    it lies wholly below every box of the current line (lines of handwriting do not overlap)."""
    boxes = sorted((list(map(int, b)) for b in bboxes), key=lambda b: (b[0] + b[2]) / 2)
    lines, bottom = [], None
    for b in boxes:
        if bottom is None or b[0] >= bottom:
            lines.append([])
            bottom = b[2]
        lines[-1].append(b)
        bottom = max(bottom, b[2])
    return [sorted(line, key=lambda b: b[1]) for line in lines]


# Q 4.4
def crop_letters(bw, line):
    """The characters of one line as NIST36 rows: each box's crop of bw, padded to a square with a
    white margin, resized to 32x32, transposed and flattened. Returns an (n, 1024) array in [0, 1]."""
    rows = []
    for y1, x1, y2, x2 in line:
        crop = bw[y1:y2, x1:x2]
        side = int(max(y2 - y1, x2 - x1) * 1.3) + 2
        square = np.ones((side, side))
        oy, ox = (side - (y2 - y1)) // 2, (side - (x2 - x1)) // 2
        square[oy:oy + y2 - y1, ox:ox + x2 - x1] = crop
        small = skimage.transform.resize(square, (32, 32), anti_aliasing=True)
        rows.append(small.T.ravel())
    return np.array(rows).reshape(-1, 1024)


# Q 4.4
def read_page(image, params):
    """The text of a page photo, one string per line of handwriting (top to bottom), read with the Q3
    MLP in params ('Wlayer1', 'blayer1', 'Woutput', 'boutput'); words may be separated by spaces."""
    bboxes, bw = findLetters(image)
    text = []
    for line in group_lines(bboxes):
        h1 = forward(crop_letters(bw, line), params, 'layer1', sigmoid)
        probs = forward(h1, params, 'output', softmax)
        chars = [CLASSES[i] for i in np.argmax(probs, axis=1)]
        widths = np.median([b[3] - b[1] for b in line])
        out = chars[0]
        for prev, box, ch in zip(line, line[1:], chars[1:]):
            out += (' ' if box[1] - prev[3] > 0.8 * widths else '') + ch
        text.append(out)
    return text


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
