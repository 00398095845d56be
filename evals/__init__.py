"""Evaluation of congvan: Q&A test sets through ``Assistant.ask``, and BEIR retrieval benchmarks.

``format`` reads test sets, ``metrics`` scores them (pure functions), ``runner`` asks the
questions, ``report`` renders results, ``beir`` benchmarks retrieval on BEIR folders.
"""

from evals.format import QAItem, load_items
from evals.runner import EvalResult, run_eval

__all__ = ["EvalResult", "QAItem", "load_items", "run_eval"]
