"""Policy files: the built-ins load, and a wrong file is an error naming file and key."""

from __future__ import annotations

import pytest

from gates.policy import builtin_policies, load_policy
from harness.core.errors import BadInputError

MINIMAL = """name: t
checks:
  - name: acc
    suite: medqa
    metric: accuracy
    op: ">="
    threshold: 0.5
"""


def test_builtins_load_with_hash():
    assert {"default", "strict", "permissive"} <= set(builtin_policies())
    for name in ("default", "strict", "permissive"):
        policy = load_policy(name)
        assert len(policy.sha256) == 64 and policy.path.endswith(f"{name}.yaml")


def test_default_follows_the_lecture():
    checks = {c.name: c for c in load_policy("default").checks}
    assert checks["forgetting"].judge == "delta_vs_base"
    assert (checks["forgetting"].op, checks["forgetting"].threshold) == ("<=", 0.05)
    assert (checks["robust_consistency"].op, checks["robust_consistency"].threshold) == (">=", 0.95)
    assert (checks["harmful_output_rate"].op, checks["harmful_output_rate"].threshold) == ("<", 0.001)
    assert (checks["critical_error_rate"].op, checks["critical_error_rate"].threshold) == ("<", 0.01)
    assert checks["medqa_no_regression"].paired and checks["pubmedqa_no_regression"].paired
    assert checks["latency_p95"].gate_on == "cuda" and checks["latency_p95"].threshold == 2.0


def test_file_policy(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL)
    assert load_policy(str(path)).checks[0].name == "acc"


@pytest.mark.parametrize("text, expected", [
    (MINIMAL.replace("threshold: 0.5", "treshold: 0.5"), "checks.0 (acc).treshold"),
    (MINIMAL.replace('op: ">="', 'op: "=>"'), "checks.0 (acc).op"),
    (MINIMAL.replace("    op: \">=\"\n    threshold: 0.5\n", "    judge: non_inferior\n"),
     "needs 'margin'"),
    (MINIMAL.replace("metric: accuracy", "metric: ece").replace(
        "    op: \">=\"\n    threshold: 0.5\n", "    judge: non_inferior\n    margin: 0.05\n"),
     "must be 'accuracy'"),
    (MINIMAL + MINIMAL.split("checks:\n")[1], "two checks are named 'acc'"),
    ("name: t\nchecks: []\n", "key 'checks'"),
    ("name: t\nchecks: [\n", "not valid YAML"),
])
def test_bad_policy_names_file_and_key(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(BadInputError) as info:
        load_policy(str(path))
    assert expected in str(info.value) and str(path) in str(info.value)


def test_unknown_name_lists_builtins():
    with pytest.raises(BadInputError, match="default"):
        load_policy("no-such-policy")
