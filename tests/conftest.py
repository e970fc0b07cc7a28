"""Shared test fixtures: one seed for every test, and a reproducible hypothesis profile."""

import os

import pytest
from hypothesis import settings

# Derandomised so that a failing example reproduces on every run and in CI; no
# deadline because the first call of a kernel pays for BLAS/LAPACK warm-up.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def seed():
    """Seed for ``np.random.default_rng``: fixed by default, swept with ``LVM_TEST_SEED``."""
    return int(os.environ.get("LVM_TEST_SEED", "0"))
