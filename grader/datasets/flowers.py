"""A Flowers-17 stand-in: procedurally drawn flowers in 17 classes, as an ImageFolder tree of JPEGs.

The real Flowers-17 (Oxford VGG, 17 species, 80 photos each) cannot be downloaded here. Each class here
is a flower type with its own petal count, petal shape and colours (named after the real species it
loosely imitates); each image varies position, size, rotation, hue, light, background foliage, blur and
noise, so the classes are distinct but not trivially so. 40 train + 10 test images per class, 64x64."""
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from grader.datasets import location

NAME = 'flowers17'
SIZE = 64
PER_CLASS = {'train': 40, 'test': 10}
SEED = 1717
# name: (petals, petal hue, saturation, value, petal roundness 0..1, centre hue, centre size)
CLASSES = {
    'bluebell': (6, 0.64, 0.65, 0.75, 0.8, 0.62, 0.10),
    'buttercup': (5, 0.14, 0.90, 0.95, 0.9, 0.12, 0.18),
    'coltsfoot': (24, 0.13, 0.85, 0.95, 0.2, 0.10, 0.35),
    'cowslip': (5, 0.15, 0.55, 0.95, 0.7, 0.30, 0.12),
    'crocus': (6, 0.78, 0.55, 0.80, 0.5, 0.12, 0.10),
    'daffodil': (6, 0.15, 0.75, 0.95, 0.4, 0.09, 0.35),
    'daisy': (18, 0.00, 0.02, 0.97, 0.3, 0.14, 0.22),
    'dandelion': (36, 0.14, 0.95, 0.95, 0.1, 0.14, 0.05),
    'fritillary': (6, 0.90, 0.60, 0.55, 0.6, 0.92, 0.12),
    'iris': (3, 0.72, 0.70, 0.65, 0.4, 0.14, 0.08),
    'lilyvalley': (6, 0.30, 0.05, 0.98, 0.95, 0.28, 0.20),
    'pansy': (5, 0.75, 0.80, 0.45, 0.95, 0.14, 0.20),
    'snowdrop': (3, 0.33, 0.06, 0.97, 0.3, 0.33, 0.15),
    'sunflower': (20, 0.13, 0.95, 0.90, 0.2, 0.07, 0.45),
    'tigerlily': (6, 0.06, 0.90, 0.95, 0.2, 0.03, 0.10),
    'tulip': (4, 0.98, 0.80, 0.85, 0.85, 0.95, 0.05),
    'windflower': (6, 0.00, 0.05, 0.96, 0.85, 0.15, 0.15),
}


def _hsv(h, s, v):
    from matplotlib.colors import hsv_to_rgb
    return hsv_to_rgb(np.clip([h % 1.0, s, v], 0, 1))


def draw(name, rng):
    """One uint8 RGB SIZE x SIZE image of a flower of class ``name``."""
    petals, hue, sat, val, round_, c_hue, c_size = CLASSES[name]
    n = SIZE * 2                                            # drawn at 2x, then downsampled
    yy, xx = np.mgrid[:n, :n].astype(float)
    # background: foliage greens and browns with leaf-like blobs
    g = ndimage.zoom(rng.standard_normal((6, 6)), n / 6, order=3)[:n, :n]
    bg = np.stack([0.20 + 0.08 * g, 0.38 + 0.12 * g, 0.15 + 0.05 * g], -1) * rng.uniform(0.6, 1.2)
    for _ in range(int(rng.integers(2, 6))):
        cy, cx, a, b, t = rng.uniform(0, n), rng.uniform(0, n), rng.uniform(8, 30), rng.uniform(3, 8), \
            rng.uniform(0, np.pi)
        u = (yy - cy) * np.cos(t) + (xx - cx) * np.sin(t)
        v = -(yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)
        bg[(u / a) ** 2 + (v / b) ** 2 < 1] = _hsv(rng.uniform(0.22, 0.38), 0.6, rng.uniform(0.3, 0.6))
    # the flower: petals as a polar radius function
    cy, cx = n / 2 + rng.normal(0, n * 0.08, 2)
    radius = n * rng.uniform(0.28, 0.42)
    r = np.hypot(yy - cy, xx - cx) / radius
    theta = np.arctan2(yy - cy, xx - cx) + rng.uniform(0, 2 * np.pi)
    wave = np.abs(np.cos(petals * theta / 2))
    edge = round_ * wave ** 0.5 + (1 - round_) * wave ** 4
    edge = 0.35 + 0.65 * edge * (1 + 0.08 * rng.standard_normal())
    petal = np.clip((edge - r) * radius / 1.5, 0, 1)
    colour = _hsv(hue + rng.normal(0, 0.02), sat * rng.uniform(0.85, 1.1), val * rng.uniform(0.8, 1.05))
    shade = (0.75 + 0.25 * np.clip(r, 0, 1))[..., None] * (0.9 + 0.1 * wave)[..., None]
    img = bg * (1 - petal[..., None]) + (colour * shade) * petal[..., None]
    centre = np.clip((c_size - r) * radius / 1.5, 0, 1)
    c_col = _hsv(c_hue + rng.normal(0, 0.02), 0.8, rng.uniform(0.35, 0.8))
    img = img * (1 - centre[..., None]) + c_col * centre[..., None]
    # light, blur, noise, downsample
    light = 1 + rng.uniform(-0.25, 0.25) * (xx / n - 0.5) + rng.uniform(-0.25, 0.25) * (yy / n - 0.5)
    img = img * light[..., None] * rng.uniform(0.8, 1.15)
    img = ndimage.gaussian_filter(img, (rng.uniform(0.8, 1.8),) * 2 + (0,))
    img = img[::2, ::2] + rng.normal(0, 0.02, (SIZE, SIZE, 3))
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def generate(folder=None, seed=SEED):
    """Write folder/{train,test}/<class>/NNN.jpg and a manifest."""
    import shutil
    from PIL import Image
    from grader.datasets import manifest
    folder = Path(folder or location.generated(NAME))
    start, files = time.perf_counter(), []
    for split_id, split in enumerate(('train', 'test')):
        if (folder / split).exists():
            shutil.rmtree(folder / split)
        for k, name in enumerate(sorted(CLASSES)):
            (folder / split / name).mkdir(parents=True)
            for i in range(PER_CLASS[split]):
                image = draw(name, np.random.default_rng((seed, split_id, k, i)))
                path = folder / split / name / f'{i:03d}.jpg'
                Image.fromarray(image).save(path, quality=90)
                files.append(path)
    seconds = time.perf_counter() - start
    manifest.write(folder, {'set': NAME, 'seed': seed, 'recipe_version': 1,   # flowers' own recipe
                            'generator': 'grader.datasets.flowers.generate', 'classes': sorted(CLASSES),
                            'sizes': {s: PER_CLASS[s] * len(CLASSES) for s in PER_CLASS},
                            'image_size': [SIZE, SIZE, 3]}, files)
    return files + [folder / 'manifest.json'], seconds
