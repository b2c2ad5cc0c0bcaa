"""File names of the exchange between the trusted process and a child, in the child's scratch folder.

The trusted process writes REQUEST, INPUTS, SOURCE and, for the probes that need them, the REFERENCE
pieces; the child writes OUTPUTS, then RESULT last (its presence means the child finished). Arrays travel
as ``.npz`` and are parsed by the trusted process itself (numeric dtypes only, no pickles); everything
else is JSON. The child's stdout/stderr go to STDOUT in the grader's folder beside the scratch folder,
which the child cannot open by name.
"""
REQUEST = "request.json"
INPUTS = "inputs.npz"
SOURCE = "submission.py"
REFERENCE = "reference.py"
OUTPUTS = "outputs.npz"
RESULT = "result.json"
STDOUT = "stdout.txt"
