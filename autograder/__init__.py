"""vae-kit's autograder: grades VAE notebooks (and .py files) into Gradescope's results.json.

``python -m autograder grade submission.ipynb --results results.json``; see README.md.
"""
