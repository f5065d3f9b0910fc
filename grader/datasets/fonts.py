"""The handwriting-style font faces the generated sets are drawn from (Debian packages, see FONT_PACKAGES).

A face is used only if it is installed and really draws every character asked for (no empty glyph, no
.notdef box); ``faces(chars)`` gives that list in a fixed order, so a seed always means the same faces."""
import functools
import hashlib
from pathlib import Path

FONT_DIR = Path('/usr/share/fonts')

# (Debian package, path under /usr/share/fonts). Decorative, dotted and ordinary book faces of the same
# packages are left out on purpose: ordinary fonts make the set too easy (SPEC.md section 4).
FACES = (
    ('fonts-bwht', 'opentype/bwht/BecauseWeBuild-Regular.otf'),
    ('fonts-bwht', 'opentype/bwht/BecauseWeConnect-Regular.otf'),
    ('fonts-bwht', 'opentype/bwht/BecauseWeCreate-Regular.otf'),
    ('fonts-bwht', 'opentype/bwht/BecauseWeLearn-Regular.otf'),
    ('fonts-bwht', 'opentype/bwht/BecauseWeMentor-Regular.otf'),
    ('fonts-bwht', 'opentype/bwht/BecauseWeOrganize-Regular.otf'),
    ('fonts-humor-sans', 'truetype/humor-sans/Humor-Sans.ttf'),
    ('fonts-breip', 'truetype/breip/Breip.ttf'),
    ('fonts-breip', 'truetype/breip/breipfont.ttf'),
    ('fonts-dkg-handwriting', 'truetype/fifthhorseman/dkg.ttf'),
    ('fonts-dkg-handwriting', 'truetype/fifthhorseman/dkgIt.ttf'),
    ('fonts-kiloji', 'truetype/kiloji/kiloji.ttf'),
    ('fonts-kiloji', 'truetype/kiloji/kiloji_b.ttf'),
    ('fonts-kiloji', 'truetype/kiloji/kiloji_d.ttf'),
    ('fonts-kiloji', 'truetype/kiloji/kiloji_p.ttf'),
    ('fonts-klee', 'truetype/klee/KleeOne-Regular.ttf'),
    ('fonts-klee', 'truetype/klee/KleeOne-SemiBold.ttf'),
    # fonts-kristi's Kristi.ttf covers A-Z0-9 but its brush strokes are mostly illegible at 32x32
    ('fonts-rufscript', 'truetype/rufscript/Rufscript010.ttf'),
    ('fonts-seto', 'truetype/seto/setofont.ttf'),
    ('fonts-tlwg-purisa-ttf', 'truetype/tlwg/Purisa.ttf'),
    ('fonts-tlwg-purisa-ttf', 'truetype/tlwg/Purisa-Oblique.ttf'),
    ('fonts-comic-neue', 'opentype/comic-neue/ComicNeue-Regular.otf'),
    ('fonts-comic-neue', 'opentype/comic-neue/ComicNeue-Bold.otf'),
    ('fonts-comic-neue', 'opentype/comic-neue/ComicNeue-Italic.otf'),
    ('fonts-comic-neue', 'opentype/comic-neue/ComicNeue-BoldItalic.otf'),
    ('fonts-dustin', 'truetype/dustin/Domestic_Manners.ttf'),
    ('fonts-dustin', 'truetype/dustin/It_wasn_t_me.ttf'),
    ('fonts-dustin', 'truetype/dustin/Junkyard.ttf'),
    ('fonts-dancingscript', 'opentype/dancingscript/DancingScript-Regular.otf'),
    ('fonts-dancingscript', 'opentype/dancingscript/DancingScript-Bold.otf'),
    ('fonts-kaushanscript', 'opentype/kaushanscript/KaushanScript-Regular.otf'),
)
FONT_PACKAGES = tuple(sorted({pkg for pkg, _ in FACES}))
INSTALL_HINT = 'apt-get install -y ' + ' '.join(FONT_PACKAGES)


def face_path(face):
    return FONT_DIR / face


def installed():
    """The faces of FACES whose files are present, in FACES order."""
    return [face for _, face in FACES if face_path(face).is_file()]


@functools.lru_cache(maxsize=None)
def _font(face, size):
    from PIL import ImageFont
    return ImageFont.truetype(str(face_path(face)), size)


@functools.lru_cache(maxsize=None)
def covers(face, chars):
    """True if the face draws every character of ``chars`` (not blank, not the missing-glyph box)."""
    import numpy as np
    font = _font(face, 48)
    missing = font.getmask('\ue000')
    missing_px = np.array(missing)
    for ch in chars:
        mask = font.getmask(ch)
        px = np.array(mask)
        if px.size == 0 or px.max() == 0:
            return False
        if mask.size == missing.size and np.array_equal(px, missing_px):
            return False
    return True


def faces(chars):
    """Installed faces that draw all of ``chars``, in a fixed order."""
    return [face for face in installed() if covers(face, chars)]


def fingerprint(face_list):
    """{face: sha256 of the font file}: written to manifests so a regeneration can tell fonts changed."""
    return {face: hashlib.sha256(face_path(face).read_bytes()).hexdigest() for face in face_list}


def require(chars, minimum=10):
    """faces(chars), or a DataError saying which packages to install."""
    from grader.datasets import DataError
    found = faces(chars)
    if len(found) < minimum:
        raise DataError(f'only {len(found)} handwriting font faces are installed (need {minimum}); '
                        f'regenerating the data needs: {INSTALL_HINT}')
    return found
