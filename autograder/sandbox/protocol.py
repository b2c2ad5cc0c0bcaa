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
#: The descriptor of a child that runs student code on which it records, line by line as they happen, what that
#: code read from torch.distributions (``R read Class.method ...``), a change to the watchers (``T what``) and
#: the end of each case (``E index``): the write end of a pipe whose read end only the trusted side holds
#: (the fork server, or the runner for a spawned child). A spawned child gets the number in its request.
RECORD_FD = 200
#: The longest line a child writes there; what the trusted side reads of it in all.
MAX_RECORD_LINE, MAX_RECORD_BYTES = 1024, 65536
