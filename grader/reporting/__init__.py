"""What the grading writes for people: feedback pages, the class report, gradebooks and LMS exports."""
