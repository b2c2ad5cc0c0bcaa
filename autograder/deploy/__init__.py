"""The Gradescope deployment: grading on Gradescope (``gradescope``, what ``run_autograder`` runs) and building the
``autograder.zip`` that carries the kit there (``package``, standard library only).

It may import :mod:`autograder.harness` and the layers below it; never the class tools, never an assignment.
"""
