"""The assignment as nbgrader sees it.

The course directory, the release, reading a submission, the nbgrader course and the files the
student copy ships that the grader computes.
"""
