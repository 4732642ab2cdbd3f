"""nbgrader configuration of the U-Net course, copied into every course directory the grader makes."""

from unet_kit.assignment import GRADING_KERNEL_NAME

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "unet-isbi2012"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every submission runs in the confined kernel that `python -m grader autograde` writes for it
# (grader.jail), whatever kernel the student's editor named (Colab and VS Code name others).
# Its per-cell timeout comes from grader.limits on nbgrader's command line.
c.Execute.kernel_name = GRADING_KERNEL_NAME
c.Execute.interrupt_on_timeout = True
# The confined kernel has no network, not even a loopback: it talks ZeroMQ over Unix sockets.
c.KernelManager.transport = "ipc"

# Scores come from grader.check; feedback shows its results and notes, never hidden test code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grader.feedback.ShowStudentContentAsText",
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.feedback.ShortenTestTracebacks",
    "grader.feedback.AddGradingReport",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
