"""Page photos of handwritten text, for Q4 (findLetters) and the page-reading questions.

``generated_pages()``: pages drawn here, one handwriting face per page, with the known text and the box of
every character's ink. They imitate the course's photos and carry what makes real pages hard for
findLetters (issue 14): coloured ink on off-white paper with fibres, uneven light, a vignette and on most
pages the soft shadow of the phone or hand; a slight tilt; camera blur, sensor and JPEG noise; strokes
broken by pen lifts and drawn faintly; the floating dots of a lowercase i or j among the capitals; a few
characters that touch their neighbour; specks of dirt, faint smudges and periods after list numbers (not
characters, as in the course's truth files). A findLetters that never joins broken strokes, thresholds at
a fixed grey level, or keeps every speck loses boxes on them (tests/test_q4_find_letters.py).
``real_pages()``: the photos in data_dir()/images with the text of their truth.json (no boxes).

A Page's image is RGB float64 in [0, 1], exactly ``skimage.img_as_float(skimage.io.imread(path))``;
``boxes`` is an int array (n_chars, 4) of [y1, x1, y2, x2] (top-left inclusive, bottom-right exclusive,
like regionprops' bbox), one per non-space character of ``lines`` in reading order, or None. A box is
the extent of its character's ink however faint (a broken character's pieces and an i's dot included),
kept exact where two characters touch."""
import dataclasses
import functools
import json
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from grader.datasets import DataError, glyphs, location

NAME = 'pages'
SEED = 4444
N_PAGES = 8
CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
TRUTH = 'truth.json'
ABOUT = ('Generated page photos (grader.datasets.pages). For each page: "lines", the text top to bottom; '
         '"boxes", one [y1, x1, y2, x2] per non-space character in reading order (ink bounding box, '
         'bottom-right exclusive, like skimage regionprops bbox); "face", the font it was drawn from. '
         'Periods after list numbers are not characters (as in the course\'s truth files).')

WORDS = ('ABOUT AFTER AGAIN APPLE BAKE BLUE BOOK BREAD CALL CAR CHECK CITY CLEAN COFFEE COOK DEEP DINNER DOG '
         'DONT DRAW EASY EIGHT EMAIL FIND FISH FIX FLOWER FRIDAY GARDEN GIFT GREEN GROUP HAIKU HELP HOME '
         'HOUSE IDEA JAZZ JUICE JUMP KEYS KING KNOW LAMP LEARN LETTER LIST LUNCH MAKE MARKET MILK MONDAY '
         'MOVIE MUSIC NAP NEURAL NEXT NIGHT NOTE OFFICE ORANGE PAPER PARK PAY PHONE PIZZA PLAN QUICK QUIZ '
         'QUOTE RAIN READ RENT ROBOT SCHOOL SEVEN SHOP SLEEP SMALL SOUP STAMP STUDY SUNDAY TAKE TEA THE '
         'THINGS TICKET TODAY TRAIN VISIT VOTE WALK WATER WAX WEEK WINDOW WORK WRITE XRAY YARD YELLOW YOGA '
         'YOUR ZERO ZONE').split()


@dataclasses.dataclass
class Page:
    name: str
    image: np.ndarray            # RGB float64 (H, W, 3) in [0, 1]
    lines: list                  # text lines, top to bottom
    boxes: object = None         # int (n_chars, 4) [y1, x1, y2, x2] in reading order, or None

    @property
    def text(self):
        """The characters of the page in reading order, spaces removed."""
        return ''.join(''.join(line.split()) for line in self.lines)


# ---------------------------------------------------------------- reading

def _read_image(path):
    import skimage.io
    from skimage import img_as_float
    try:
        image = img_as_float(skimage.io.imread(str(path)))
    except Exception as exc:
        raise DataError(f'{path}: not a readable image ({type(exc).__name__}: {exc})') from None
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise DataError(f'{path}: image has shape {image.shape}, expected (H, W, 3) RGB')
    return image[:, :, :3]


def _read_truth(path):
    try:
        truth = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f'{path}: missing') from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f'{path}: not valid JSON ({exc})') from None
    if not isinstance(truth, dict):
        raise DataError(f'{path}: expected a JSON object of page name -> lines')
    return {k: v for k, v in truth.items() if k != 'about'}


def _lines_of(path, name, entry):
    lines = entry.get('lines') if isinstance(entry, dict) else entry
    if not isinstance(lines, list) or not all(isinstance(s, str) for s in lines):
        raise DataError(f'{path}: entry {name!r} must be a list of text lines')
    return lines


def read_pages(folder, with_boxes):
    """Pages of every entry of folder/truth.json whose image exists; boxes validated when asked."""
    folder = Path(folder)
    truth_path = folder / TRUTH
    pages = []
    for name, entry in sorted(_read_truth(truth_path).items()):
        image_path = folder / name
        if not image_path.is_file():
            if with_boxes:
                raise DataError(f'{image_path}: missing (listed in {truth_path})')
            continue
        lines = _lines_of(truth_path, name, entry)
        image = _read_image(image_path)
        boxes = None
        if with_boxes:
            boxes = np.asarray(entry.get('boxes') if isinstance(entry, dict) else None)
            n = len(''.join(''.join(s.split()) for s in lines))
            if boxes.ndim != 2 or boxes.shape != (n, 4) or not np.issubdtype(boxes.dtype, np.integer):
                raise DataError(f'{truth_path}: boxes of {name!r} have shape {boxes.shape}, expected '
                                f'({n}, 4) integers, one per non-space character')
            h, w = image.shape[:2]
            if (boxes[:, 0] < 0).any() or (boxes[:, 1] < 0).any() or (boxes[:, 2] > h).any() \
                    or (boxes[:, 3] > w).any() or (boxes[:, 2] <= boxes[:, 0]).any() \
                    or (boxes[:, 3] <= boxes[:, 1]).any():
                raise DataError(f'{truth_path}: a box of {name!r} is empty or outside the {h}x{w} image')
        pages.append(Page(name, image, list(lines), boxes))
    return pages


def real_folder():
    """The folder of real page photos (data_dir()/images), or None."""
    found = location.find_real('images/' + TRUTH, TRUTH)
    return found.parent if found else None


def real_pages():
    """The real photos listed in data_dir()/images/truth.json (boxes None); [] when there are none."""
    folder = real_folder()
    return _cached(str(folder), False) if folder else []


def generated_pages():
    """The shipped generated pages (fixtures/data/pages) with their lines and boxes."""
    return _cached(str(location.generated(NAME)), True)


def _cached(folder, with_boxes):
    pages = _read_cached(folder, _stamp(folder), with_boxes)
    return [Page(p.name, p.image.copy(), list(p.lines), None if p.boxes is None else p.boxes.copy())
            for p in pages]


def _stamp(folder):
    try:
        return (Path(folder) / TRUTH).stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=4)
def _read_cached(folder, stamp, with_boxes):
    return read_pages(folder, with_boxes)


# ---------------------------------------------------------------- generation

# Faces whose strokes are hatched or dotted: on a page photo their characters break into many blobs
# (measured: a plain Otsu + closing pipeline found 52% and 94% of their boxes), which the course's
# "well separated, unbroken characters" rules out. Kaushan Script draws M, N and W as two strokes a
# quarter of a letter apart, more than any pen lift the pages add (the reference found 91% of its boxes).
PAGE_EXCLUDED = ('truetype/dustin/Domestic_Manners.ttf', 'truetype/kiloji/kiloji_d.ttf',
                 'opentype/kaushanscript/KaushanScript-Regular.otf')
RECIPE = glyphs.RECIPES[2]
LOWER = 'ij'             # letters some writers put down in lowercase among capitals: their dots float free


def page_faces():
    """The handwriting faces used for pages (fonts.faces minus PAGE_EXCLUDED), in a fixed order."""
    from grader.datasets import fonts
    return [face for face in fonts.require(CHARS) if face not in PAGE_EXCLUDED and fonts.covers(face, LOWER)]


def _cut(g, rng, width):
    """Ink g with a gap of ``width`` pixels across it along a random line near its middle (a pen lift)."""
    h, w = g.shape
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[:h, :w]
    d = np.cos(theta) * (yy - h * rng.uniform(0.3, 0.7)) + np.sin(theta) * (xx - w * rng.uniform(0.3, 0.7))
    return g * np.clip(np.abs(d) - width / 2 + 0.5, 0, 1)


def _one_glyph(face, ch, rng, half_width, zoom, damage):
    """(ink, pressure) of one character: ink in [0, 1] defines the character (its box is ink > 0.5);
    pressure in (0, 1] scales how dark it comes out (faint strokes). ``damage``: (chance of a broken
    stroke, chance of faint strokes, gap width in pixels)."""
    g = glyphs.handwritten(face, ch, rng, 0.35, half_width, recipe=RECIPE)
    g = ndimage.zoom(g, zoom * rng.uniform(0.92, 1.08), order=1)
    y1, x1, y2, x2 = glyphs._bbox(g, 0.5)
    g = g[max(0, y1 - 2):y2 + 2, max(0, x1 - 2):x2 + 2]
    p_break, p_faint, gap = damage
    if rng.random() < p_break:
        cut = _cut(g, rng, gap * rng.uniform(0.6, 1.0))
        if (cut > 0.5).sum() > 0.6 * (g > 0.5).sum():    # keep the character recognisable
            g = cut
    pressure = np.ones_like(g)
    if rng.random() < p_faint:   # part of the stroke drawn lightly: a smooth dip in pressure
        pressure = 1 - rng.uniform(0.35, 0.6) * np.clip(_smooth(rng, g.shape, 3) + 0.3, 0, 1)
    return g, pressure


def _text(rng, lower):
    """Lines of capital words and digits: a numbered list or plain lines; ``lower``: I and J in lowercase."""
    n_lines = int(rng.integers(4, 8))
    numbered = rng.random() < 0.5
    lines = []
    for i in range(n_lines):
        words = [WORDS[int(k)] for k in rng.integers(len(WORDS), size=int(rng.integers(2, 5)))]
        if rng.random() < 0.3:
            words.insert(int(rng.integers(len(words) + 1)), str(int(rng.integers(0, 1000))))
        line = ' '.join(words)
        while len(line) > 24 and ' ' in line:
            line = line.rsplit(' ', 1)[0]
        if lower:
            line = line.replace('I', 'i').replace('J', 'j')
        lines.append((f'{i + 1}', line) if numbered else (None, line))
    return lines


def _paste(canvas, layer, ink, top, left, label):
    h, w = ink.shape
    region = canvas[top:top + h, left:left + w]
    np.maximum(region, ink, out=region)
    layer[top:top + h, left:left + w][ink > 0.5] = label


def _smooth(rng, shape, grid=4):
    g = rng.standard_normal((grid, grid))
    rr = np.linspace(0, grid - 1, shape[0])
    cc = np.linspace(0, grid - 1, shape[1])
    return ndimage.map_coordinates(g, np.meshgrid(rr, cc, indexing='ij'), order=3, mode='nearest')


INKS = {'blue': (0.12, 0.18, 0.52), 'dark blue': (0.08, 0.10, 0.30), 'black': (0.10, 0.10, 0.12),
        'pencil': (0.30, 0.30, 0.33), 'purple': (0.28, 0.12, 0.40)}


def _top(ch, g, y, cap, jitter):
    """Row of a character's top: capitals and digits sit on the line, Q's tail and j's hook hang below."""
    if ch == 'Q':
        return int(round(y + jitter))
    if ch == 'j':
        return int(round(y + cap - 0.72 * g.shape[0] + jitter))
    return int(round(y + cap - g.shape[0] + 2 + jitter))


def _light(rng, height, width):
    """How much light reaches the paper: a gradient, a vignette, and on some photos the soft shadow of
    the phone or hand that took it. As uneven as the course's photos and no more: their paper's darkest
    and brightest (2nd and 98th percentiles of its closed and blurred grey) differ by a ratio of 0.89-0.92,
    these pages' by 0.83-0.92. (The first pages of issue 14 went to 0.44-0.73: a threshold Otsu chose over
    the whole page then made a third to two thirds of it ink, and six past students' findLetters, which
    find the photos' characters at F1 0.95-1.00, scored 0.11-0.79 there, 0.88-0.98 on these pages.)"""
    yy, xx = np.mgrid[:height, :width]
    theta = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(theta) * (yy / height - 0.5) + np.sin(theta) * (xx / width - 0.5)
    r2 = ((yy / height - 0.5) ** 2 + (xx / width - 0.5) ** 2)
    light = (1.0 + rng.uniform(0.03, 0.10) * ramp - rng.uniform(0.0, 0.10) * r2
             + 0.02 * _smooth(rng, (height, width)))
    if rng.random() < 0.6:
        phi = rng.uniform(0, 2 * np.pi)
        edge = (np.cos(phi) * (yy - height * rng.uniform(0.2, 0.8)) + np.sin(phi) * (xx - width * rng.uniform(0.2, 0.8)))
        softness = rng.uniform(0.03, 0.10) * min(height, width)
        light *= 1 - rng.uniform(0.04, 0.10) / (1 + np.exp(-edge / softness))
    return light


def render_page(index, seed=SEED):
    """(uint8 RGB image, lines, boxes, face) of generated page ``index``: a pure function of the seed."""
    rng = np.random.default_rng((seed, 7, index))
    face_list = page_faces()
    face = face_list[int(rng.integers(len(face_list)))]
    cap = rng.uniform(44, 70)                       # capital height on the page, pixels
    zoom = cap / glyphs.CAP_HEIGHT
    half_width = rng.uniform(1.6, 3.6)
    gap, word_gap, line_step = cap * rng.uniform(0.3, 0.55), cap * rng.uniform(1.0, 1.5), cap * rng.uniform(1.7, 2.3)
    # how the writer's pen behaves on this page: broken and faint strokes, characters that touch
    damage = (rng.uniform(0.2, 0.45), rng.uniform(0.1, 0.35), cap * rng.uniform(0.045, 0.075))
    touch = rng.uniform(0.0, 0.03)
    text = _text(rng, rng.random() < 0.4)
    # first pass: draw every character, so the sheet can be made to fit the longest line
    rows = []
    for number, line in text:
        items = []
        if number:   # "3." : the digits are characters, the period is not
            items += [(d, _one_glyph(face, d, rng, half_width, zoom, damage)) for d in number] + [('.', None)]
        for k, word in enumerate(line.split()):
            if k or number:
                items.append((' ', None))
            items += [(ch, _one_glyph(face, ch, rng, half_width, zoom, damage)) for ch in word]
        rows.append(items)
    widths = [sum(g[0].shape[1] + gap if g is not None else (word_gap if ch == ' ' else cap * 0.3 + gap)
                  for ch, g in items) for items in rows]
    left_margin = cap * rng.uniform(0.4, 1.0)
    width = int(left_margin + max(widths) + cap * rng.uniform(0.8, 2.0))
    height = int(cap * 1.6 + line_step * len(rows) + cap * rng.uniform(0.5, 1.5))
    ink = np.zeros((height, width))
    pressure = np.ones((height, width))
    # two label layers, odd and even characters, so that two characters that touch keep their own boxes
    layers = np.zeros((2, height, width), np.int32)
    lines, char_no = [], 0
    y = cap * rng.uniform(0.8, 1.2)
    for (number, line), items in zip(text, rows):
        x = left_margin + cap * rng.uniform(0.0, 0.3)
        previous = None
        for ch, g in items:
            if ch == ' ':
                x += word_gap
                previous = None
            elif ch == '.':                          # a period: a dot, not a character
                r = max(2.0, cap * rng.uniform(0.06, 0.09))
                yy, xx = np.ogrid[-int(r) - 1:int(r) + 2, -int(r) - 1:int(r) + 2]
                dot = np.clip(r + 0.5 - np.hypot(yy, xx), 0, 1)
                top, left = int(y + cap - dot.shape[0]), int(x)
                np.maximum(ink[top:top + dot.shape[0], left:left + dot.shape[1]], dot,
                           out=ink[top:top + dot.shape[0], left:left + dot.shape[1]])
                x += cap * 0.3 + gap
                previous = None
            else:
                g, press = g
                top = _top(ch, g, y, cap, rng.normal(0, cap * 0.04))
                top = min(max(top, 0), height - g.shape[0])
                left = int(x)
                if previous is not None and rng.random() < touch:
                    left = _touching(ink, g, top, previous, rng)
                char_no += 1
                _paste(ink, layers[char_no % 2], g, top, left, char_no)
                region = pressure[top:top + g.shape[0], left:left + g.shape[1]]
                np.minimum(region, np.where(g > 0.05, press, 1.0), out=region)
                x = left + g.shape[1] + gap
                previous = left + g.shape[1]
        lines.append(f'{number} {line}' if number else line)
        y += line_step

    # tilt the sheet slightly; labels follow with nearest-neighbour so every box is its char's ink
    angle = rng.uniform(-1.0, 1.0)     # more, and a long line drifts into the next (lines are 1.7-2.3 caps apart)
    ink = ndimage.rotate(ink, angle, reshape=False, order=1, mode='constant')
    pressure = ndimage.rotate(pressure, angle, reshape=False, order=1, mode='constant', cval=1.0)
    boxes = np.zeros((char_no, 4), np.int64)
    for parity in (0, 1):
        turned = ndimage.rotate(layers[parity], angle, reshape=False, order=0, mode='constant')
        for k, sl in enumerate(ndimage.find_objects(turned, max_label=char_no)):
            if (k + 1) % 2 == parity and sl is None:
                raise RuntimeError(f'page {index}: character {k} vanished')
            if sl is not None:
                boxes[k] = (sl[0].start, sl[1].start, sl[0].stop, sl[1].stop)
    occupied = (ndimage.rotate(layers.max(0), angle, reshape=False, order=0) > 0) | (ink > 0.3)

    # specks of dirt (small, dark) and faint smudges (large, light)
    keep_out = ndimage.maximum_filter(occupied, size=int(cap * 0.5))
    for _ in range(int(rng.integers(15, 40))):
        r = rng.uniform(1.0, 3.5)
        cy, cx = rng.uniform(r + 1, height - r - 2), rng.uniform(r + 1, width - r - 2)
        if keep_out[int(cy), int(cx)]:
            continue
        y0, x0 = int(cy - r - 1), int(cx - r - 1)
        yy, xx = np.mgrid[y0:y0 + int(2 * r) + 4, x0:x0 + int(2 * r) + 4]
        dot = np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0, 1) * rng.uniform(0.6, 1.0)
        sub = ink[y0:y0 + dot.shape[0], x0:x0 + dot.shape[1]]
        np.maximum(sub, dot[:sub.shape[0], :sub.shape[1]], out=sub)
    smudge = np.zeros_like(ink)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx, s = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(20, 60)
        yy, xx = np.ogrid[:height, :width]
        smudge += rng.uniform(0.08, 0.18) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))

    # paper with its texture, light and shadow, ink colour, camera blur, sensor noise
    paper = np.array([0.93, 0.91, 0.86]) * rng.uniform(0.80, 1.0) + rng.uniform(-0.03, 0.03, 3)
    ink_colour = np.array(INKS[sorted(INKS)[int(rng.integers(len(INKS)))]])
    light = _light(rng, height, width)
    fibres = (ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), (0.7, 3.0)) * rng.uniform(0.02, 0.05)
              + 0.015 * _smooth(rng, (height, width), 16))
    alpha = np.clip(ink * pressure * (0.85 + 0.1 * _smooth(rng, (height, width), 12)) + smudge, 0, 1)
    grain = ndimage.gaussian_filter(rng.normal(0, 0.02, (height, width)), 1.0)
    rgb = (paper[None, None, :] * (1 - alpha[..., None] + fibres[..., None]) + ink_colour * alpha[..., None])
    rgb = rgb * light[..., None] + grain[..., None]
    rgb = ndimage.gaussian_filter(rgb, (rng.uniform(0.5, 1.0),) * 2 + (0,))
    rgb = rgb + rng.normal(0, 0.012, rgb.shape)
    return glyphs.to_uint8(rgb), lines, boxes, face


def _touching(ink, g, top, previous_right, rng):
    """Left column for glyph g so that its ink just touches the ink already on the line to its left."""
    h, w = g.shape
    for left in range(previous_right - 1, previous_right - w // 2, -1):
        if left < 0:
            break
        overlap = (ink[top:top + h, left:left + w] > 0.5) & (g > 0.5)
        if overlap.any():
            return left
    return max(0, previous_right - w // 2)


def jpeg(image, index, seed=SEED):
    """The JPEG file of page ``index`` rendered as ``image``, at a quality drawn from the seed."""
    import io
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(image).save(out, format='JPEG', quality=int(np.random.default_rng((seed, 8, index)).integers(72, 90)))
    return out.getvalue()


def generate(folder=None, seed=SEED, n_pages=N_PAGES):
    """Render the pages as JPEG files with truth.json and manifest.json into folder."""
    from grader.datasets import fonts, manifest
    folder = Path(folder or location.generated(NAME))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob('page_*.jpg'):
        old.unlink()
    start = time.perf_counter()
    truth, files, faces_used = {'about': ABOUT}, [], []
    for i in range(n_pages):
        image, lines, boxes, face = render_page(i, seed)
        name = f'page_{i + 1:02d}.jpg'
        (folder / name).write_bytes(jpeg(image, i, seed))
        truth[name] = {'lines': lines, 'boxes': boxes.tolist(), 'face': face}
        files.append(folder / name)
        faces_used.append(face)
    (folder / TRUTH).write_text(json.dumps(truth, indent=None, separators=(',', ':')) + '\n')
    files.append(folder / TRUTH)
    seconds = time.perf_counter() - start
    manifest.write(folder, {'set': NAME, 'seed': seed, 'recipe_version': RECIPE.version,
                            'generator': 'grader.datasets.pages.generate', 'sizes': {'pages': n_pages},
                            'fonts': fonts.fingerprint(sorted(set(faces_used)))}, files)
    return files + [folder / 'manifest.json'], seconds
