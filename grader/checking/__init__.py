"""Scoring and diagnosing one submission.

The probe beside the student's code, the checker that never runs it, the reference oracles, the
hidden tests and the misconceptions.
"""
