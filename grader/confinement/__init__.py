"""Where student code runs: the jail, its policy, the submission's cgroups and scratch folders."""
