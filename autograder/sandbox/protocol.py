"""File names of the exchange between the trusted process and a child, in the child's scratch folder.

The trusted process writes REQUEST, INPUTS and SOURCE; the child writes OUTPUTS, then RESULT last
(its presence means the child finished). Arrays travel as ``.npz`` and are read with
``allow_pickle=False``; everything else is JSON.
"""
REQUEST = "request.json"
INPUTS = "inputs.npz"
SOURCE = "submission.py"
OUTPUTS = "outputs.npz"
RESULT = "result.json"
STDOUT = "stdout.txt"
