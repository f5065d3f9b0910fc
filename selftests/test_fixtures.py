"""The stored fixtures: regenerating them gives the shipped bytes again, and ``check`` notices a
damaged, stale or missing file."""
import json
import shutil

import numpy as np
import pytest

from grader import fixtures, npzio, paths
from grader.fixtures import q4 as q4_fixtures

pytestmark = pytest.mark.skipif(not paths.REFERENCE.is_dir(), reason='needs the reference solution')


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob('*') if p.is_file())


def test_regenerating_twice_gives_the_same_bytes(tmp_path):
    """Deterministic: two regenerations on one machine are byte for byte the same, manifests included.
    (Across machines NumPy's CPU-specific SIMD kernels may change last bits; check() allows for that.)"""
    first = fixtures.regenerate(root=tmp_path / 'a')
    q4_fixtures._train.cache_clear()   # retrain, rather than reuse the first run's weights
    second = fixtures.regenerate(root=tmp_path / 'b')
    assert first and len(first) == len(second), 'regenerate wrote nothing, or not the same files twice'
    assert _files(tmp_path / 'a') == _files(tmp_path / 'b')
    for rel in _files(tmp_path / 'a'):
        assert (tmp_path / 'a' / rel).read_bytes() == (tmp_path / 'b' / rel).read_bytes(), \
            f'{rel}: two regenerations differ (the generator is not deterministic)'


def test_shipped_fixtures_are_what_the_reference_makes():
    """Every generator's file is shipped (public and hidden), nothing else is, and check() finds the
    stored cases still reproduced by the reference."""
    fixtures._load_parts()
    expected = sorted(f'{prefix}{name}.npz' for name in fixtures.GENERATORS for prefix in ('', 'hidden/'))
    shipped = [rel for rel in _files(paths.FIXTURES) if rel.endswith('.npz') and not rel.startswith('data/')]
    assert shipped == expected, 'generated and shipped fixtures differ: run python -m grader fixtures --regenerate'
    assert fixtures.check() == []


@pytest.fixture
def copy(tmp_path):
    """A private copy of fixtures/ that a test may damage; check() finds nothing wrong with it as is."""
    root = tmp_path / 'fixtures'
    shutil.copytree(paths.FIXTURES, root)
    assert fixtures.check(root) == []
    return root


def _one_of(problems, *words):
    return any(all(w in p for w in words) for p in problems)


def test_check_catches_a_damaged_file(copy):
    target = copy / 'q2' / 'softmax.npz'
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    problems = fixtures.check(copy)
    assert _one_of(problems, 'softmax.npz', 'checksum'), problems
    # a test that reads it says what is wrong and how to mend it (not zipfile's CRC error alone)
    with pytest.raises(ValueError, match=r'fixture .*softmax.npz is damaged \(\w+: .*fixtures --regenerate'):
        fixtures._cases_at('q2/softmax', False, copy)


def _hand_edit(copy, name, edit):
    """Change the hidden cases of generator ``name`` in the copy with ``edit(arrays)`` and record the new
    checksum in its manifest, as someone editing a fixture by hand would."""
    target = copy / 'hidden' / f'{name}.npz'
    arrays = npzio.load_npz(target)
    edit(arrays)
    npzio.save_npz(target, arrays)
    manifest_path = copy / 'hidden' / fixtures.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest['files'][f'{name}.npz'] = npzio.sha256(target)
    manifest_path.write_text(json.dumps(manifest))


def test_regenerating_keeps_what_the_reference_reproduces(tmp_path, monkeypatch):
    """Regenerating on another machine must not churn the files: a stored case off by last bits (as
    another CPU's SIMD kernels make it) is kept byte for byte, and so is a manifest none of whose files
    changed; a case the reference no longer reproduces is rewritten, and its manifest with it."""
    fixtures._load_parts()
    monkeypatch.setattr(fixtures, 'GENERATORS', {n: fixtures.GENERATORS[n] for n in ('q2/softmax', 'q2/backwards')})
    root = tmp_path / 'fixtures'
    assert len(fixtures.regenerate(root=root)) == 4
    _hand_edit(root, 'q2/softmax', lambda arrays: arrays.update({'0/probs': arrays['0/probs'] * (1 + 1e-15)}))
    _hand_edit(root, 'q2/backwards', lambda arrays: arrays.update({'1/grad_W': arrays['1/grad_W'] + 1e-9}))
    before = {rel: (root / rel).read_bytes() for rel in _files(root)}
    assert fixtures.regenerate(root=root) == [root / 'hidden' / 'q2' / 'backwards.npz']
    after = {rel: (root / rel).read_bytes() for rel in _files(root)}
    changed = sorted(rel for rel in before if after[rel] != before[rel])
    assert changed == ['hidden/manifest.json', 'hidden/q2/backwards.npz'], changed
    assert fixtures.check(root) == []


def test_check_catches_a_stale_case_with_a_matching_checksum(copy):
    """A stored case edited and its checksum updated (a hand edit): the reference rerun still notices."""
    _hand_edit(copy, 'q2/backwards', lambda arrays: arrays.update({'1/grad_W': arrays['1/grad_W'] + 1e-9}))
    problems = fixtures.check(copy)
    assert _one_of(problems, 'backwards.npz', '1/grad_W', 'not what the reference produces'), problems


def test_check_catches_missing_files(copy):
    (copy / 'q2' / 'loss.npz').unlink()
    manifest_path = copy / fixtures.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest['files']['q2/forward.npz']
    manifest_path.write_text(json.dumps(manifest))
    problems = fixtures.check(copy)
    assert _one_of(problems, 'loss.npz', 'missing'), problems
    assert _one_of(problems, 'q2/forward', 'lists no file'), problems


def test_stored_cases_round_trip():
    """What a test reads back is what the generator built (strings stay str, arrays keep dtype)."""
    for case in fixtures.cases('q2/forward'):
        assert isinstance(case['activation'], str)
        assert case['X'].dtype == np.float64 and case['post_act'].shape[0] == case['X'].shape[0]


def test_check_catches_hidden_inputs_that_repeat_public_ones(copy):
    """A hidden case with a public case's inputs (as the hidden softmax set once had [[1000, 1000], [0, 0]])
    would let a hand-in that hard-codes the public answers keep hidden points: check() refuses it, even
    when the checksums match, and the shipped hidden sets repeat nothing."""
    assert fixtures.repeated_inputs() == []
    public = npzio.load_npz(copy / 'q2' / 'softmax.npz')
    _hand_edit(copy, 'q2/softmax', lambda arrays: arrays.update({f'3/{f}': public[f'1/{f}'] for f in ('x', 'probs')}))
    problems = fixtures.check(copy)
    assert _one_of(problems, 'softmax.npz', 'hidden case 3 repeats the inputs of public case 1'), problems


def test_every_generator_says_which_fields_are_inputs():
    """Without its inputs declared, a generator's hidden set could repeat the public one unnoticed; only the
    grader's own tools (the Q3 weights page reading is graded with) declare none."""
    fixtures._load_parts()
    for name in fixtures.GENERATORS:
        fields = set(fixtures.cases(name)[0])
        declared = fixtures.INPUTS[name]
        assert declared or name == 'q4/mlp_params', f'{name} declares no inputs'
        for pattern in declared:
            assert any(f == pattern or (pattern.endswith('*') and f.startswith(pattern[:-1])) for f in fields), \
                f'{name}: declared input {pattern!r} matches no field of its cases'
