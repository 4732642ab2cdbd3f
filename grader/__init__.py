"""The instructors' side of the U-Net assignment: nbgrader course set-up and grading."""
