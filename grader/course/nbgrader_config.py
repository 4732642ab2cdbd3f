"""nbgrader configuration of the private course copies of ``python -m grader autograde``."""

from grader.course.settings import configure_batch_course

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
configure_batch_course(c)
