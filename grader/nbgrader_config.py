"""nbgrader configuration of the U-Net course, copied into every course directory the grader makes."""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "unet-isbi2012"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every submission runs in the confined kernel that `python -m grader autograde` writes for it
# (grader.jail), whatever kernel the student's editor named (Colab and VS Code name others).
c.Execute.kernel_name = "unet-grading"
c.Execute.timeout = 60  # seconds per cell; cells that hang at definition were already taken out
c.Execute.interrupt_on_timeout = True

# Scores come from grader.check; feedback shows its results and notes, never hidden test code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.feedback.ShortenTestTracebacks",
    "grader.feedback.AddGradingReport",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
