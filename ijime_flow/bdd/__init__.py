"""Executable policy checks: a pytest-bdd step library for writing features against any workflow.

Installed as the pytest plugin ``ijime_flow`` (entry point ``pytest11``); the steps are in
:mod:`ijime_flow.bdd.steps`, the readers of dates and values in :mod:`ijime_flow.bdd.parse`.
"""
