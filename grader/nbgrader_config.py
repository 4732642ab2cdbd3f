"""nbgrader configuration of the U-Net course, copied into every course directory the grader makes."""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "unet-isbi2012"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Submissions saved by Colab or VS Code name other kernels; grade them all with ours.
c.Execute.kernel_name = "python3"
c.Execute.timeout = 300  # seconds per cell: the largest hidden test builds a full-width U-Net
c.Execute.interrupt_on_timeout = True

# Feedback must not reveal hidden tests, neither in the cells nor in tracebacks that quote them.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.feedback.ShortenTestTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
