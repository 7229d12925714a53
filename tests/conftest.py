import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, settings

pytest.register_assert_rewrite("_support")

settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def process_pool():
    """Two spawned worker processes: nothing of this process (its monkeypatches) reaches them
    but the tasks."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool
