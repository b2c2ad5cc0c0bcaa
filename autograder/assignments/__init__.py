"""The kit's assignments, one folder each: ``<name>/spec.py`` declares it (see :mod:`autograder.core.assignment`).

A course's own assignment folders (``$VAE_KIT_ASSIGNMENTS``) join this package's path, so that each is imported as
``autograder.assignments.<name>`` like the kit's own.
"""
from autograder.core.assignment import folders as _folders

__path__[:] = [str(folder) for folder in _folders()]  # noqa: F821 (a package's __path__)
