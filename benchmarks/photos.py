"""How well the reference reads the course's real page photos (issue 14): per photo, the boxes the
reference findLetters finds against the characters of its text, the share of characters read right
(grader.evaluate.char_accuracy, as test_q4_read_page measures it) and the characters most often read
wrong, from an alignment of the page as read with its text.

  NN_DATA_DIR=../shared/data python benchmarks/photos.py              # the shipped weights (fixtures/q4)
  NN_DATA_DIR=../shared/data python benchmarks/photos.py --recipe 2 --seeds 4
                        # and the MLP trained from 4 seeds on a NIST36 stand-in drawn with glyph recipe 2
  NN_DATA_DIR=../shared/data python benchmarks/photos.py --emnist 3
                        # and the reference EMNIST CNN of Q7.1.4, trained as its test trains it from
                        # 3 seeds (the test's first), reading the photos through that test's page reading
  NN_DATA_DIR=../shared/data python benchmarks/photos.py --sheet crops.png
                        # and a figure: per character, the crops the reference cuts from the photos
                        # beside samples of the shipped stand-in (derived from the photos: not shipped)
  NN_DATA_DIR=../shared/data python benchmarks/photos.py --recipe 3 --seeds 7 \
      --add-faces truetype/tomsontalks/TomsonTalks.ttf,truetype/nanum/NanumPen.ttf,truetype/nanum/NanumBrush.ttf
                        # and the MLP trained on the stand-in drawn from the shipped faces plus three
                        # (apt-get install fonts-tomsontalks fonts-nanum-extra)

With ``--recipe N`` the stand-in is drawn again with recipe N of grader/datasets/glyphs.py (same seed and
sizes as the shipped one; the shipped file itself if it was drawn with N; drawing needs the fonts) into a
temporary folder, the course's MLP is trained on it as fixtures/q4 trains the shipped weights, and the
same table follows for those weights: the "after" of a change to the stand-in, before anything shipped is
regenerated. Compare recipes over several seeds: on one photo the spread between training seeds is as
wide as the difference between recipes. Everything computes on one thread, as grading does."""
import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.run import ONE_THREAD  # noqa: E402

os.environ.update(ONE_THREAD)   # before NumPy loads: the same figures on any number of cores, as grading computes

import numpy as np  # noqa: E402

from grader import evaluate, fixtures  # noqa: E402
from grader.datasets import fonts, glyphs, location, nist36, pages  # noqa: E402
from grader.fixtures import q4 as q4_fixtures  # noqa: E402
from grader.impl import reference_module  # noqa: E402

KEYS = ('Wlayer1', 'blayer1', 'Woutput', 'boutput')


def report(label, read, photos):
    """Prints one line per photo, reading each with ``read`` (image -> lines of text); returns {photo:
    share of characters read right}."""
    q4 = reference_module('q4')
    print(f'-- {label}')
    read_right = {}
    for page in photos:
        boxes, _ = q4.findLetters(page.image.copy())
        lines = read(page.image.copy())
        chars = sum(len(line.replace(' ', '')) for line in page.lines)
        read_right[page.name] = evaluate.char_accuracy(lines, page.lines)
        worst = collections.Counter(f'{t} missed' if r == '-' else f'{r} extra' if t == '-' else f'{t} as {r}'
                                    for t, r in evaluate.misreads(lines, page.lines)).most_common(6)
        print(f'{page.name}: {len(boxes)} boxes / {chars} characters, read {read_right[page.name]:.1%}; '
              f"most often wrong: {', '.join(f'{p} x{n}' for p, n in worst) or 'none'}", flush=True)
    return read_right


def mlp_reader(params):
    """The reference read_page with the course MLP's weights ``params``."""
    q4, weights = reference_module('q4'), {k: params[k].astype(float) for k in KEYS}
    return lambda image: q4.read_page(image, weights)


def emnist_runs(photos, seeds):
    """The reference EMNIST CNN trained as test_q7_1_4_emnist trains it (its settings, from its seed, then
    1000, 1001, ...), reading the photos through that test's page reading; one {photo: share} per seed."""
    from grader import torch_data, torch_eval
    from tests.test_q7_1_4_emnist import SEED, read_page
    q4, q7 = reference_module('q4'), reference_module('q7')
    task = torch_data.TASKS['emnist_cnn']
    (x, y), _ = task.data()
    runs = []
    for seed in [SEED, *range(1000, 1000 + seeds - 1)]:
        torch_eval.setup(seed)
        model = q7.build_emnist_cnn()
        q7.train_model(model, x, y, **task.settings)
        runs.append(report(f'EMNIST CNN (7.1.4), seed {seed}', lambda image, m=model: read_page(q4, q7, m, image),
                           photos))
    return runs


def spread(label, runs):
    """Per photo: the mean, sd and range of the share read right over several runs."""
    print(f'-- {label} over {len(runs)} seeds')
    for name in runs[0]:
        a = np.array([r[name] for r in runs])
        print(f'{name}: read {a.mean():.1%} on average (sd {a.std(ddof=1):.1%}), {a.min():.1%} to {a.max():.1%}')


def real_crops(photos):
    """{character: [upright 32x32 crops]}: what the reference's read_page feeds the network, from the lines
    of the photos where findLetters found as many boxes as the line has characters (so each box is known)."""
    q4 = reference_module('q4')
    crops = collections.defaultdict(list)
    for page in photos:
        boxes, bw = q4.findLetters(page.image.copy())
        for line, text in zip(q4.group_lines(boxes), page.lines):
            chars = text.replace(' ', '')
            if len(line) == len(chars):
                for ch, row in zip(chars, q4.crop_letters(bw, line)):
                    crops[ch].append(row.reshape(32, 32).T)
    return crops


def sheet(path, photos, per=6):
    """A figure: one row per character of the photos, its real crops, then samples of the stand-in."""
    from grader.datasets import contact_sheets
    crops = real_crops(photos)
    x, y = nist36.load('train')
    images, blank = [], np.ones((32, 32))
    for ch in sorted(crops, key=nist36.CLASSES.index):
        drawn = [r.reshape(32, 32).T for r in x[y.argmax(1) == nist36.CLASSES.index(ch)][:per]]
        images += (crops[ch][:per] + [blank] * per)[:per] + [blank] + drawn
    titles = ['photos'] + [''] * per + ['stand-in'] + [''] * (per - 1)
    contact_sheets._save(contact_sheets._grid(images, len(crops), 2 * per + 1, titles), Path(path))
    print(f'wrote {path}: {len(crops)} characters, real crops (left) beside stand-in samples (right)')


def stand_in(version, folder, added=()):
    """(train, valid) of the NIST36 stand-in drawn with glyph recipe ``version`` from the shipped set's
    faces plus ``added``: the shipped one if that is how it was drawn, else drawn again (same seed and
    sizes) into ``folder``."""
    if version == nist36.RECIPE.version and not added:
        path = location.generated(nist36.NAME) / nist36.FILE
        print(f'NIST36 stand-in, recipe {version}: the shipped one', flush=True)
    else:
        nist36.RECIPE = glyphs.RECIPES[version]
        face_list = fonts.require(nist36.CLASSES) + list(added)
        (path, _), seconds = nist36.generate(folder, face_list=face_list)
        print(f'NIST36 stand-in, recipe {version}, {len(face_list)} faces: drawn in {seconds:.0f} s', flush=True)
    return nist36.read(path, 'train'), nist36.read(path, 'valid')


def added_faces(spec):
    """The faces of --add-faces (paths under /usr/share/fonts, comma-separated), each checked to draw
    every NIST36 character; exits naming the first that does not."""
    added = [face for face in (spec or '').split(',') if face]
    for face in added:
        if face in fonts.installed():
            sys.exit(f'--add-faces: {face} is one of the shipped set\'s faces already')
        if not fonts.face_path(face).is_file():
            sys.exit(f'--add-faces: no font file {fonts.face_path(face)}')
        if not fonts.covers(face, nist36.CLASSES):
            sys.exit(f'--add-faces: {face} does not draw every one of {nist36.CLASSES}')
    return added


def trained(train, valid, seed):
    """The course MLP's weights after training as fixtures/q4 trains the shipped ones, from ``seed``."""
    np.random.seed(seed)
    start = time.perf_counter()
    params, history = reference_module('q3').train_mlp(*train, *valid, **q4_fixtures.COURSE)
    print(f'seed {seed}: trained in {time.perf_counter() - start:.0f} s, validation accuracy '
          f'{history[-1]["valid_acc"]:.1%}', flush=True)
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.split(':', 1)[0])
    parser.add_argument('--recipe', type=int, choices=sorted(glyphs.RECIPES),
                        help='also train on a NIST36 stand-in drawn with this glyph recipe and report it')
    parser.add_argument('--seeds', type=int, default=1,
                        help=f'with --recipe: train from this many seeds ({q4_fixtures.SEED}, {q4_fixtures.SEED + 1}, '
                             '...) and summarise the spread: on one photo it is wide, so one seed says little')
    parser.add_argument('--add-faces', metavar='FONTS',
                        help='with --recipe: draw the stand-in from the shipped faces plus these (font files under '
                             '/usr/share/fonts, comma-separated, e.g. truetype/nanum/NanumPen.ttf)')
    parser.add_argument('--sheet', metavar='PNG', help="also write real crops beside stand-in samples to PNG")
    parser.add_argument('--emnist', type=int, metavar='SEEDS', default=0,
                        help="also train the reference EMNIST CNN as Q7.1.4's test does, from SEEDS seeds (the "
                             "test's first), and read the photos with it (needs torch)")
    args = parser.parse_args()
    if args.add_faces and args.recipe is None:
        parser.error('--add-faces needs --recipe N (the recipe to draw the stand-in with)')
    added = added_faces(args.add_faces)
    photos = pages.real_pages()
    if not photos:
        sys.exit('no real page photos: set NN_DATA_DIR to a folder with images/truth.json (../shared/data)')
    shipped = fixtures.cases('q4/mlp_params')[0]
    report(f'shipped weights (fixtures/q4, NIST36 stand-in recipe {nist36.RECIPE.version})', mlp_reader(shipped),
           photos)
    if args.sheet:
        sheet(args.sheet, photos)
    if args.emnist:
        runs = emnist_runs(photos, args.emnist)
        if len(runs) > 1:
            spread('EMNIST CNN (7.1.4)', runs)
    if args.recipe is None:
        return
    with tempfile.TemporaryDirectory(prefix='nn-photos-') as folder:
        train, valid = stand_in(args.recipe, folder, added)
    drawn = f'recipe {args.recipe}' + (f' + {len(added)} faces' if added else '')
    runs = []
    for seed in range(q4_fixtures.SEED, q4_fixtures.SEED + max(1, args.seeds)):
        runs.append(report(f'weights trained on {drawn}, seed {seed}', mlp_reader(trained(train, valid, seed)),
                           photos))
    if len(runs) > 1:
        spread(drawn, runs)


if __name__ == '__main__':
    main()
