"""Q4 variants: findLetters and page-reading bugs. Page reading (4.4) is graded with the reference's
findLetters, so a findLetters bug must cost 4.2 only."""
from grader.variants import Variant

KEEP = "    keep = [r for r in regions if r.area >= 0.15 * np.median(areas[areas >= 20 * scale ** 2])] \\\n"


def q4(old, new):
    return (('q4.py', old, new),)


VARIANTS = (
    Variant('q4-boxes-xy', 'boxes as [x1, y1, x2, y2] (columns first) instead of regionprops order',
            q4('    bboxes = [list(r.bbox) for r in keep]\n',
               '    bboxes = [[r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]] for r in keep]\n'), ('4.2',), ('4.4',)),
    Variant('q4-bw-inverted', 'bw with white characters on black',
            q4('    return bboxes, 1.0 - ink.astype(float)\n', '    return bboxes, ink.astype(float)\n'),
            ('4.2',), ('4.4',)),
    Variant('q4-no-speck-filter', 'every connected component becomes a box: specks and periods too',
            q4(KEEP, '    keep = [r for r in regions] \\\n'), ('4.2',), ('4.4',)),
    Variant('q4-no-closing', 'no morphological closing: broken strokes split one character into pieces',
            q4('    ink = skimage.morphology.closing(ink, skimage.morphology.footprint_rectangle('
               '(int(3 * scale) | 1,) * 2))\n', ''), ('4.2',)),
    Variant('q4-lines-unsorted', 'the boxes of a line are not sorted left to right',
            q4('    return [sorted(line, key=lambda b: b[1]) for line in lines]\n', '    return lines\n'), ('4.4',)),
    Variant('q4-crop-not-transposed', 'crops fed upright, though NIST36 stores them transposed',
            q4('        rows.append(small.T.ravel())\n', '        rows.append(small.ravel())\n'), ('4.4',)),
    Variant('q4-crop-inverted', 'crops fed as white ink on black, unlike the training data',
            q4('        rows.append(small.T.ravel())\n', '        rows.append(1 - small.T.ravel())\n'), ('4.4',)),
)
