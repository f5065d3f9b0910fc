"""Where things live in a checkout (or in a student release / autograder bundle laid out the same way)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / 'reference'
STUDENT = ROOT / 'student'
TESTS = ROOT / 'tests'
FIXTURES = ROOT / 'fixtures'
HIDDEN_FIXTURES = FIXTURES / 'hidden'   # present in the autograder bundle only
