"""Plumbing for the U-Net assignment: data, tiles, metrics, plots and device choice.

Students may read it but never need to change it; the network itself lives in the notebook.
"""
