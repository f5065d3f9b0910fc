"""One pipeline that turns a font glyph into a handwritten-looking character image; NIST36, MNIST and
EMNIST stand-ins, and the characters on generated pages, all come from it.

Per sample (SPEC.md section 4): a random stroke width, rotation / shear / aspect, an elastic distortion of
strength ``s`` (a smooth random displacement field whose amplitude is ``s * ELASTIC_AMPLITUDE`` of the
glyph height), then framing (``frame``): NIST-style square crop with a 4-20% margin, MNIST-style 20x20 box
centred by mass in 28x28, or EMNIST-style square with a 2-pixel border; then blur, ink level and noise.
Every random choice comes from the Generator passed in, so a sample is a pure function of its seed.

Four recipes (``RECIPES``). Version 1 draws the font's outline thickened or thinned, so a face keeps its
thick and thin parts. Version 2 (the generated pages since issue 14) also writes half of the characters with
a round pen along the glyph's centre line (``pen``), as a ballpoint or pencil does, over a wider range of
stroke widths, with darker ink: measured on the course's two page photos, the crops a page reader cuts are
monoline, nearly binary and up to twice as bold as version 1's characters, and a network trained on
version 1 read 57% and 80% of their characters (issue 14). Version 3 (NIST36) is version 2 with 60% of the
I's given a bar across the top and the bottom (``serif_i``), as most people print a capital I and as the
photos' I's all are: the faces draw a bare stroke, so a printed I was read as Z or 2. Version 4 (EMNIST)
is version 1's outlines (no pen) with version 3's barred I's, darker ink and bolder strokes (half-widths
3.5-8 px, log-uniform): in EMNIST's 28x28 frame its strokes are 5.7 px wide against 3.1 for version 1
and 3.4 for the photos' characters after crops_to_emnist, yet the Q7.1.4 CNN trained on it reads the
photos better (issue 14; torchvision_sets.RECIPES has the figures)."""
import dataclasses
import functools

import numpy as np
from scipy import ndimage

CAP_HEIGHT = 48          # glyphs are rendered so that a capital H is this many pixels tall
ELASTIC_AMPLITUDE = 0.07  # displacement std at s = 1, as a fraction of CAP_HEIGHT (calibrated)
ELASTIC_GRID = 5          # control points per side of the smooth displacement field


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The random choices of one version of the pipeline (ranges are uniform unless said otherwise)."""
    version: int
    pen: float = 0.0                 # share of characters written with a round pen along the centre line
    half_width: tuple = (2.2, 4.4)   # stroke half-width in pixels at CAP_HEIGHT (log-uniform from version 2 on)
    level: tuple = (0.75, 1.0)       # ink darkness
    blur: tuple = (0.0, 0.5)         # Gaussian sigma after framing, pixels
    serif_i: float = 0.0             # share of I written with a bar across its top and its bottom


RECIPES = {1: Recipe(1), 2: Recipe(2, pen=0.5, half_width=(2.0, 6.0), level=(0.85, 1.0)),
           3: Recipe(3, pen=0.5, half_width=(2.0, 6.0), level=(0.85, 1.0), serif_i=0.6),
           4: Recipe(4, half_width=(3.5, 8.0), level=(0.85, 1.0), serif_i=0.6)}
RECIPE_VERSION = 4       # the newest; each set's manifest names the version it was drawn with


@functools.lru_cache(maxsize=None)
def _font_size(face):
    """Font size that makes 'H' CAP_HEIGHT pixels tall in this face."""
    from grader.datasets.fonts import _font
    top, bottom = _font(face, 100).getbbox('H')[1::2]
    return max(8, int(round(100 * CAP_HEIGHT / max(1, bottom - top))))


SERIF_I = 'I|'   # glyph key of the I with bars (a form, not a class: it is labelled I)


@functools.lru_cache(maxsize=4096)
def glyph(face, char):
    """The clean glyph as a float mask in [0, 1] (ink = 1), tightly cropped, read-only."""
    if char == SERIF_I:
        return _with_bars(glyph(face, 'I'))
    from PIL import Image, ImageDraw
    from grader.datasets.fonts import _font
    font = _font(face, _font_size(face))
    left, top, right, bottom = font.getbbox(char)
    img = Image.new('L', (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(img).text((4 - left, 4 - top), char, font=font, fill=255)
    mask = np.asarray(img, dtype=np.float64) / 255.0
    rows, cols = np.nonzero(mask > 0.5)
    if rows.size == 0:
        raise ValueError(f'face {face} draws nothing for {char!r}')
    mask = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1].copy()
    mask.setflags(write=False)
    return mask


def _with_bars(stem):
    """The face's I with a bar across its top and its bottom, as thick as its stem and about half a
    capital's height wide, centred on the stem's ends (a slanted stem keeps its slant)."""
    h, w = stem.shape
    ink = stem > 0.5
    thick = max(2, int(round(ink.sum() / h)))
    half = max(thick, int(round(0.25 * h)))
    ends = [np.flatnonzero(ink[rows].any(axis=0)).mean() for rows in (slice(0, thick), slice(h - thick, h))]
    shift = max(0, half - int(np.floor(min(ends))))   # room on the left for a bar wider than the stem
    right = int(np.ceil(max(ends))) + half + 1
    out = np.zeros((h, max(w, right) + shift))
    out[:, shift:shift + w] = stem
    for rows, centre in zip((slice(0, thick), slice(h - thick, h)), ends):
        c = int(round(centre)) + shift
        out[rows, c - half:c + half + 1] = 1.0
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=4096)
def _signed_distance(face, char):
    """(signed distance to the glyph's edge, positive inside, on a padded canvas; its stroke half-width)."""
    mask = glyph(face, char)
    pad = int(0.45 * max(mask.shape)) + 6
    inside = np.pad(mask, pad) > 0.5
    sd = ndimage.distance_transform_edt(inside) - ndimage.distance_transform_edt(~inside)
    # half-width of the stroke: the typical height of the distance ridge inside the glyph
    ridge = sd[inside & (sd >= ndimage.maximum_filter(sd, size=3))]
    half = float(np.median(ridge)) if ridge.size else 2.0
    sd.setflags(write=False)
    return sd, half


@functools.lru_cache(maxsize=4096)
def _centre_distance(face, char):
    """Distance to the glyph's centre line (its skeleton), on the same padded canvas as _signed_distance."""
    from skimage.morphology import skeletonize
    mask = glyph(face, char)
    pad = int(0.45 * max(mask.shape)) + 6
    skeleton = skeletonize(np.pad(mask, pad) > 0.5)
    d = ndimage.distance_transform_edt(~skeleton)
    d.setflags(write=False)
    return d


def _smooth_field(rng, shape):
    """A smooth random field with std about 1 (random control points, cubic upsampling)."""
    grid = rng.standard_normal((ELASTIC_GRID, ELASTIC_GRID))
    rr = np.linspace(0, ELASTIC_GRID - 1, shape[0])
    cc = np.linspace(0, ELASTIC_GRID - 1, shape[1])
    return ndimage.map_coordinates(grid, np.meshgrid(rr, cc, indexing='ij'), order=3, mode='nearest')


def _stroke(face, char, rng, recipe, half_width):
    """The glyph's ink before distortion: its outline moved to the stroke width, or (recipe.pen) a round
    pen of that half-width along its centre line."""
    if char == 'I' and recipe.serif_i and rng.random() < recipe.serif_i:
        char = SERIF_I
    sd, face_half = _signed_distance(face, char)
    if recipe.version == 1:
        if half_width is None:
            half_width = rng.uniform(*recipe.half_width)
        return np.clip(sd + (half_width - face_half) + 0.5, 0.0, 1.0)
    pen = rng.random() < recipe.pen
    if half_width is None:
        half_width = float(np.exp(rng.uniform(*np.log(recipe.half_width))))
    if pen:
        return np.clip(half_width + 0.5 - _centre_distance(face, char), 0.0, 1.0)
    return np.clip(sd + (half_width - face_half) + 0.5, 0.0, 1.0)


def handwritten(face, char, rng, strength=0.5, half_width=None, recipe=RECIPES[1]):
    """The glyph with a random stroke width, affine and elastic distortion: float ink in [0, 1] (ink 1)
    on a canvas with room around it. ``half_width`` (pixels at CAP_HEIGHT) overrides the random one."""
    ink = _stroke(face, char, rng, recipe, half_width)

    angle = np.deg2rad(np.clip(rng.normal(0.0, 5.0), -12, 12))
    shear = rng.uniform(-0.15, 0.15)
    aspect = np.exp(rng.uniform(-0.1, 0.1))
    # forward map: rotation @ shear @ diag(aspect); map_coordinates needs the inverse (output -> input)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    forward = rot @ np.array([[1.0, 0.0], [shear, 1.0]]) @ np.diag([1.0 / aspect, aspect])
    inverse = np.linalg.inv(forward)
    h, w = ink.shape
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    rr, cc = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing='ij')
    amp = strength * ELASTIC_AMPLITUDE * CAP_HEIGHT
    dr = amp * _smooth_field(rng, (h, w))
    dc = amp * _smooth_field(rng, (h, w))
    pr, pc = rr - centre[0] + dr, cc - centre[1] + dc
    src_r = inverse[0, 0] * pr + inverse[0, 1] * pc + centre[0]
    src_c = inverse[1, 0] * pr + inverse[1, 1] * pc + centre[1]
    return ndimage.map_coordinates(ink, [src_r, src_c], order=1, mode='constant', cval=0.0)


def _bbox(ink, level=0.3):
    rows = np.flatnonzero((ink > level).any(axis=1))
    cols = np.flatnonzero((ink > level).any(axis=0))
    if rows.size == 0:
        return 0, 0, ink.shape[0], ink.shape[1]
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def _resample(ink, top, left, scale, out_shape):
    """Sample ink at out pixel (i, j) -> ink[(top + (i + .5) * scale - .5), ...], low-passed first."""
    if scale > 1:
        ink = ndimage.gaussian_filter(ink, sigma=0.45 * scale)
    i = top + (np.arange(out_shape[0]) + 0.5) * scale - 0.5
    j = left + (np.arange(out_shape[1]) + 0.5) * scale - 0.5
    return ndimage.map_coordinates(ink, np.meshgrid(i, j, indexing='ij'), order=1, mode='constant')


def frame(ink, rng, style, size):
    """Crop and scale the distorted ink to size x size in the style of a data set:
    'nist' a square around the ink with a 4-20% margin on each side (jittered);
    'mnist' the ink scaled into a 20x20 box (aspect kept) and centred by mass in 28x28;
    'emnist' the ink centred in a square with a 2-pixel border (aspect kept)."""
    y1, x1, y2, x2 = _bbox(ink)
    h, w = y2 - y1, x2 - x1
    cy, cx = (y1 + y2) / 2.0, (x1 + x2) / 2.0
    if style == 'nist':
        margin = rng.uniform(0.04, 0.20)
        side = max(h, w) * (1 + 2 * margin)
        cy += rng.uniform(-0.25, 0.25) * margin * max(h, w)
        cx += rng.uniform(-0.25, 0.25) * margin * max(h, w)
        scale = side / size
        return _resample(ink, cy - side / 2, cx - side / 2, scale, (size, size))
    if style == 'emnist':
        scale = max(h, w) / (size - 4)
        side = size * scale
        return _resample(ink, cy - side / 2, cx - side / 2, scale, (size, size))
    if style == 'mnist':
        scale = max(h, w) / 20.0
        side = size * scale
        out = _resample(ink, cy - side / 2, cx - side / 2, scale, (size, size))
        com = ndimage.center_of_mass(out)
        if np.all(np.isfinite(com)):
            out = ndimage.shift(out, ((size - 1) / 2 - com[0], (size - 1) / 2 - com[1]), order=1)
        return out
    raise ValueError(f'unknown framing style {style!r}')


def finish(ink, rng, blur=(0.0, 0.5), level=(0.75, 1.0), noise=(0.0, 0.025)):
    """Blur, ink level and noise on a framed float ink image; returns ink in [0, 1]."""
    sigma = rng.uniform(*blur)
    if sigma > 0.05:
        ink = ndimage.gaussian_filter(ink, sigma)
    ink = ink * rng.uniform(*level)
    ink = ink + rng.normal(0.0, rng.uniform(*noise), ink.shape)
    return np.clip(ink, 0.0, 1.0)


def sample(face, char, rng, style, size, strength=0.5, recipe=RECIPES[1]):
    """One finished character image: float ink in [0, 1] (1 = ink), size x size, upright."""
    # MNIST and EMNIST backgrounds are exactly 0: no sensor noise there
    noise = (0.0, 0.025) if style == 'nist' else (0.0, 0.0)
    return finish(frame(handwritten(face, char, rng, strength, recipe=recipe), rng, style, size), rng,
                  blur=recipe.blur, level=recipe.level, noise=noise)


def to_uint8(x):
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _sample_job(job):
    """(face, char, seed tuple, style, size, strength, recipe) -> uint8 ink; top level so a Pool can run it."""
    face, char, seed, style, size, strength, recipe = job
    return to_uint8(sample(face, char, np.random.default_rng(seed), style, size, strength, recipe))


def render_set(labels, chars, face_list, seed, style, size, strength=0.5, processes=None, recipe=RECIPES[1]):
    """uint8 ink images (N, size, size), 255 = ink, upright, for class indices ``labels``.
    Sample i draws its face and distortions from default_rng(seed + (i,)): any subset can be
    regenerated alone, and the result does not depend on the number of processes."""
    seed = tuple(seed)
    jobs = []
    for i, label in enumerate(labels):
        rng = np.random.default_rng(seed + (i,))
        face = face_list[int(rng.integers(len(face_list)))]
        jobs.append((face, chars[int(label)], seed + (i, 1), style, size, strength, recipe))
    if processes is None:
        import os
        processes = min(2, os.cpu_count() or 1)
    if processes > 1 and len(jobs) > 200:
        import multiprocessing
        with multiprocessing.get_context('fork').Pool(processes) as pool:
            out = pool.map(_sample_job, jobs, chunksize=256)
    else:
        out = [_sample_job(job) for job in jobs]
    return np.stack(out) if out else np.zeros((0, size, size), np.uint8)
