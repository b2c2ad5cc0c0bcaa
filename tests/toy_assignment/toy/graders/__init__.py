"""The toy assignment's graders: one pytest module per group, run by autograder.harness.harness."""
