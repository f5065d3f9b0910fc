"""Q4 variants: findLetters and page-reading bugs. Page reading (4.4) is graded with the reference's
findLetters, so a findLetters bug must cost 4.2 only. Where the course's photos are present, the bugs that
a page reader or a box count shows on them must also fail the measured row 4.3 (issue 14): real
handwriting, not only the generated pages, tells them from a sound pipeline."""
from grader.variants import Variant

KEEP = "    keep = [r for r in regions if r.area >= 0.15 * np.median(areas[areas >= 20 * scale ** 2])] \\\n"


def q4(old, new):
    return (('q4.py', old, new),)


GRAY = '    gray = skimage.color.rgb2gray(image[..., :3]) if image.ndim == 3 else np.asarray(image, float)\n'
CLOSE = ('    joined = skimage.morphology.closing(ink, skimage.morphology.footprint_rectangle(\n'
         '        (int(6 * scale) | 1, int(3 * scale) | 1)))\n')
PAPER_FOOTPRINT = 'skimage.morphology.footprint_rectangle(\n        (int(8 * scale) | 1,) * 2)'
LABEL = 'skimage.measure.label(joined, connectivity=2)'


def smoothed_gray(keyword):
    """findLetters blurring the colour image before making it grey, with a given channel keyword."""
    return q4(GRAY, '    gray = skimage.color.rgb2gray(skimage.filters.gaussian(image[..., :3], sigma=0.5, '
                    f'{keyword})) if image.ndim == 3 else np.asarray(image, float)\n')


def denoised(keyword):
    """findLetters starting with a wavelet denoise (scikit-image's PyWavelets functions), as many did."""
    return q4(GRAY, '    image = skimage.restoration.denoise_wavelet(image[..., :3], rescale_sigma=True, '
                    f'{keyword}, sigma=skimage.restoration.estimate_sigma(image[::4, ::4, :3], {keyword}, '
                    'average_sigmas=True))\n' + GRAY)


# findLetters as hand-ins of 2018-2021 spelled it (each old spelling beside the same code spelled today):
# grader.worker.compat maps them, so each pair must score alike (here: both full marks, as the reference does).
OLD_SPELLINGS = (
    Variant('q4-old-rgb2grey', 'skimage.color.rgb2grey (scikit-image 0.19 removed it; now rgb2gray)',
            q4(GRAY, GRAY.replace('rgb2gray', 'rgb2grey')), (), ('4.2',)),
    Variant('q4-old-multichannel', 'gaussian(..., multichannel=True) (scikit-image 0.20 removed it)',
            smoothed_gray('multichannel=True'), (), ('4.2',)),
    Variant('q4-new-channel-axis', 'the same as q4-old-multichannel, spelled channel_axis=-1',
            smoothed_gray('channel_axis=-1'), (), ('4.2',)),
    Variant('q4-old-wavelet', 'estimate_sigma / denoise_wavelet with multichannel=True (they need PyWavelets)',
            denoised('multichannel=True'), (), ('4.2',)),
    Variant('q4-new-wavelet', 'the same as q4-old-wavelet, spelled channel_axis=-1',
            denoised('channel_axis=-1'), (), ('4.2',)),
    Variant('q4-old-selem', 'morphology.closing(ink, selem=...) (scikit-image 0.20 removed it; now footprint=)',
            q4(CLOSE, CLOSE.replace('closing(ink, ', 'closing(ink, selem=')), (), ('4.2',)),
    Variant('q4-new-footprint', 'the same as q4-old-selem, spelled footprint=',
            q4(CLOSE, CLOSE.replace('closing(ink, ', 'closing(ink, footprint=')), (), ('4.2',)),
    Variant('q4-old-neighbors', 'measure.label(ink, neighbors=8) (scikit-image 0.18 removed it; now connectivity=2)',
            q4(LABEL, 'skimage.measure.label(joined, neighbors=8)'), (), ('4.2',)),
    Variant('q4-old-np-float', 'bw made with astype(np.float) (NumPy 1.24 removed it)',
            q4('1.0 - ink.astype(float)', '1.0 - ink.astype(np.float)'), (), ('4.2',)),
    Variant('q4-old-np-bool', 'labels an astype(np.bool) mask (NumPy 1.24 removed np.bool; 2.0 brought it back)',
            q4(LABEL, 'skimage.measure.label(joined.astype(np.bool), connectivity=2)'),
            (), ('4.2',)),
    Variant('q4-old-everything', 'every old spelling at once: rgb2grey, gaussian(multichannel=True), selem=, '
            'neighbors=8, astype(np.float)',
            q4(GRAY, '    gray = skimage.color.rgb2grey(skimage.filters.gaussian(image[..., :3], sigma=0.5, '
                     'multichannel=True)) if image.ndim == 3 else np.asarray(image, float)\n')
            + q4(CLOSE, CLOSE.replace('closing(ink, ', 'closing(ink, selem='))
            + q4(LABEL, 'skimage.measure.label(joined, neighbors=8)')
            + q4('1.0 - ink.astype(float)', '1.0 - ink.astype(np.float)'), (), ('4.2',)),
    Variant('q4-old-min-size', 'drops specks with remove_small_objects(joined, min_size=4) (2024 code; scikit-image '
            '0.26 reads min_size= as max_size=)', q4(CLOSE, CLOSE + '    joined = skimage.morphology.remove_small_objects('
                                                      'joined, min_size=4)\n'), (), ('4.2',)),
    Variant('q4-new-max-size', 'the same as q4-old-min-size, spelled max_size=3',
            q4(CLOSE, CLOSE + '    joined = skimage.morphology.remove_small_objects(joined, max_size=3)\n'), (), ('4.2',)),
    Variant('q4-old-square', 'morphology.square(n) (deprecated in scikit-image 0.25 for footprint_rectangle, '
            'still there in the installed version)',
            q4(PAPER_FOOTPRINT, 'skimage.morphology.square(int(8 * scale) | 1)'), (), ('4.2',)),
    Variant('q4-old-binary-closing', 'morphology.binary_closing (deprecated in scikit-image 0.26 for closing)',
            q4(CLOSE, CLOSE.replace('morphology.closing(', 'morphology.binary_closing(')), (), ('4.2',)),
)

VARIANTS = OLD_SPELLINGS + (
    # The course's own hint, step by step, as most hand-ins wrote it: one Otsu threshold over the whole page, a
    # fixed closing, boxes above a third of the mean area. It finds the photos' characters (F1 0.98 and 0.96
    # against the reference's boxes), so the generated pages must not be harder for it: on the darker pages
    # of before (grader/datasets/pages.py) it scored 12.5% of 4.2's box points, now full marks.
    Variant('q4-course-recipe', "findLetters as the course's hint spells it out (denoise, grey, Otsu, closing, "
            'label, skip small boxes), with no correction of uneven light',
            q4(GRAY, "    grey = skimage.color.rgb2gray(skimage.filters.gaussian(image[..., :3], 1, channel_axis=-1))\n"
                     "    ink = grey < skimage.filters.threshold_otsu(grey)\n"
                     "    ink = skimage.morphology.closing(ink, np.ones((5, 5), bool))\n"
                     "    regions = skimage.measure.regionprops(skimage.measure.label(ink, connectivity=2))\n"
                     "    mean_area = np.mean([r.area for r in regions])\n"
                     "    return [list(r.bbox) for r in regions if r.area > mean_area / 3], 1.0 - ink.astype(float)\n"
                     + GRAY),
            (), ('4.2',)),
    Variant('q4-boxes-xy', 'boxes as [x1, y1, x2, y2] (columns first) instead of regionprops order',
            q4('    bboxes = [list(r.bbox) for r in keep]\n',
               '    bboxes = [[r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]] for r in keep]\n'),
            ('4.2', '4.3'), ('4.4',)),
    Variant('q4-bw-inverted', 'bw with white characters on black',
            q4('    return bboxes, 1.0 - ink.astype(float)\n', '    return bboxes, ink.astype(float)\n'),
            ('4.2',), ('4.4',)),
    Variant('q4-no-speck-filter', 'every connected component becomes a box: specks and periods too',
            q4(KEEP, '    keep = [r for r in regions] \\\n'), ('4.2', '4.3'), ('4.4',), partial=('4.2',)),
    Variant('q4-no-closing', 'no morphological closing: broken strokes split one character into pieces',
            q4(CLOSE, '    joined = ink\n'), ('4.2',), partial=('4.2',)),
    Variant('q4-fixed-threshold', 'a fixed grey level (0.5) instead of a threshold chosen from the photo, '
            'and no correction of uneven light',
            q4('    ink = flat < min(skimage.filters.threshold_otsu(flat), 0.85)\n', '    ink = smooth < 0.5\n'),
            ('4.2',), partial=('4.2',)),
    Variant('q4-lines-unsorted', 'the boxes of a line are not sorted left to right',
            q4('    return [sorted(line, key=lambda b: b[1]) for line in lines]\n', '    return lines\n'),
            ('4.4', '4.3')),
    Variant('q4-crop-not-transposed', 'crops fed upright, though NIST36 stores them transposed',
            q4('        rows.append(small.T.ravel())\n', '        rows.append(small.ravel())\n'), ('4.4', '4.3')),
    Variant('q4-crop-inverted', 'crops fed as white ink on black, unlike the training data',
            q4('        rows.append(small.T.ravel())\n', '        rows.append(1 - small.T.ravel())\n'),
            ('4.4', '4.3')),
)
