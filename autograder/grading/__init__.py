"""What the assignments' graders use, the layer under the assignments: the ``@grades`` marker, the failure that
carries a message for the student and the submission handle that runs probes (``grading``), the comparators of
arrays (``comparators``), the statistical checks of random draws (``stats``), the figures graded from a notebook's
saved outputs (``figures``) and the written answers (``answers``).

It may import :mod:`autograder.processes` (to run probes), :mod:`autograder.notebook` (the submission, read
without running it) and the layers below them; never an assignment, the harness or anything above.
"""
