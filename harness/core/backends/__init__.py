"""Model backends: a lazily loaded model handle that scores, generates and measures text.

Public surface: `open_model` and `ModelHandle` (harness.core.backends.base).
"""
