"""The kit's assignments, one folder each: ``<name>/spec.py`` declares it (see :mod:`autograder.assignment`)."""
