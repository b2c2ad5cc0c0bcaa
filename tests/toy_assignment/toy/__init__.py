"""The toy assignment: the smallest assignment the kit grades, kept outside the kit (README, "Writing an
assignment"). tests/test_toy_assignment.py copies this folder to a temporary one and grades it from there."""
