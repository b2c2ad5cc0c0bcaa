"""vae-kit's autograder: grades VAE notebooks (and .py files) into Gradescope's results.json.

``python -m autograder grade submission.ipynb --results results.json``; see README.md.

Its packages are its layers, top to bottom, each importing only those below it (``.importlinter`` states them):
``classtools`` (the class's tools), ``deploy`` (Gradescope), ``harness`` (grading one submission), ``assignments``,
``grading`` (what the graders use), ``processes`` (the children, from the trusted side) beside ``notebook`` (a
submission read without running it), ``core`` (the shared data types) beside ``sandbox`` (the child side), and
``config``.
"""
