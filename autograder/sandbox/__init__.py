"""Code that runs inside the child processes that execute student code.

The modules here import each other as plain siblings (``import probes``), because the child runs
``child.py`` as a script with ``python -I``: it sees this folder and the installed packages, nothing
of the grader. Everything a child returns is raw data that the trusted process checks.
"""
