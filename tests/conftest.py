import os

from hypothesis import HealthCheck, settings

# The fixtures given to @given tests are immutable (a module, a class), so
# sharing them across examples is safe.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
# "ci" keeps `make test` quick; HYPOTHESIS_PROFILE=deep runs 10x the examples.
settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("deep", max_examples=1500, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
