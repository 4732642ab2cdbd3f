"""Benchmarks of the teaching kit: training speed against the machine's ceiling, time to quality, grading cost.

Run ``python -m bench`` from the repository root (``make bench``). Nothing here is a test:
figures are printed and saved under ``bench/results/``, never asserted.
"""
