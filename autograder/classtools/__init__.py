"""The class's tools, the top layer under the command line: grade a whole class (``batch``, reading Gradescope's
export in ``export``), then the report page (``report``), the similarity of submissions (``similarity``), the
feedback pages (``feedback``) and the PDFs for grading by hand (``pdf``, printed by the headless Chromium of
``browser``), with the pages' templates in ``templates/``.

They run on the staff's machine, never on Gradescope, and grade each submission in a ``python -m autograder grade``
process of its own. They may import every layer below: :mod:`autograder.deploy`, :mod:`autograder.harness` and
what they stand on; never an assignment (they load them by name from :mod:`autograder.core.assignment`).
"""
