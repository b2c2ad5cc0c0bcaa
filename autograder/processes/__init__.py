"""The children, from the trusted process's side: run a probe in a child process and supervise it (``runner``),
fork it from one server per grading (``forking``, the fork server's client), copy out what it runs from and write
what it is given (``runtime``), read what it returned as data only (``outputs``), isolate it (``isolation``:
uids, namespaces, limits, clean-up), say why it failed in the student's words (``messages``), and keep what trusted
children returned for later gradings of the kit's corpus (``reuse``).

It may import only :mod:`autograder.core`, :mod:`autograder.sandbox` (its protocol and jail) and
:mod:`autograder.config`; :mod:`autograder.processes.isolation` imports neither a grader nor an assignment.
"""
