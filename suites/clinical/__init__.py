"""Clinical task suites: entity extraction (extraction), report generation with a
hallucination rate (report), patient education (education), and the task templates
(templates) that build both their prompts and training data.

The suite classes are named by their specs (`class: suites.clinical.report:...`) and not
imported here: suites.metrics reads this package's scoring helpers, and the suites read
suites.metrics.
"""
