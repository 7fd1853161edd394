"""medgate suites: benchmark, forgetting, perturbation and safety suites.

Public surface: `list_specs()`, `get_spec(name)`, `get_suite(name)` and
`make_context(name, data)` (suites.registry); the item and result types in suites.base.
A suite's `run(model_handle, ctx)` returns per-item records and summary metrics.
"""

from suites.registry import get_spec, get_suite, list_specs, make_context

__all__ = ["get_spec", "get_suite", "list_specs", "make_context"]
