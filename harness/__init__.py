"""medgate's harness: the core every package builds on, and the application on top.

`harness.core` (errors, config, records and typed summaries, statistics, the result
cache, the run directory, I/O, model loading and backends) imports no other project
package. `harness.app` (CLI, commands, pipeline, evaluation orchestration, resume,
preflight) sits on top of the domain packages (suites, finetune, gates, reports). The
rule is checked by import-linter (`lint-imports`, contract in pyproject.toml).
"""
