"""Entry point of a child process: ``python -I -B child.py SCRATCH``.

Runs from the child runtime folder (a copy of this folder, each assignment's ``probes.py`` as
``probes_<name>.py`` and ``vae_utils.py``, outside the kit). Reads
the request, the input arrays and the submission's source from SCRATCH, imports the reference pieces
when the trusted process put them there, runs one probe, and writes the raw outputs and a JSON result
back there. Exit status and output carry no meaning: the trusted process reads only the files, and
checks everything in them.
"""
import importlib.util
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off sys.path
import protocol  # noqa: E402


def _import_reference(path):
    """Import the reference pieces from ``path`` as module ``reference`` (before any student code runs)."""
    spec = importlib.util.spec_from_file_location("reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference"] = module
    spec.loader.exec_module(module)


def cap_memory(extra_mb):
    """Cap this process's address space at its present size (the interpreter, numpy and torch loaded)
    plus ``extra_mb`` MB, before any student code runs; a larger allocation then fails with MemoryError."""
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    limit = size + extra_mb * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(scratch):
    scratch = Path(scratch)
    request = json.loads((scratch / protocol.REQUEST).read_text())
    import numpy as np
    import torch

    torch.set_num_threads(request.get("threads", 1))
    if (scratch / protocol.REFERENCE).exists():
        _import_reference(scratch / protocol.REFERENCE)
    import probing

    # the assignment's probes ("probes_vae"), or the engine's own (the sandbox check)
    probes = importlib.import_module(request.get("module", "probing"))

    if request.get("memory_mb"):
        cap_memory(request["memory_mb"])

    # Keep our own references: the submission may replace module attributes while it runs.
    save, dumps, write = np.savez, json.dumps, Path.write_text
    filename = str(scratch / protocol.SOURCE)
    with np.load(scratch / protocol.INPUTS, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    try:
        outputs, info = probing.run(probes, request, arrays, (scratch / protocol.SOURCE).read_text(), filename)
        result = {"status": "ok", "info": info, **({"traced": probing.TRACED} if request.get("trace") else {})}
    except probing.StudentError as exc:
        outputs, result = {}, {"status": "error", **exc.report(filename)}
    except Exception as exc:  # what student code returned broke the probe itself
        error = probing.StudentError(request["probe"], f"grading failed on what your code returned: {exc!r}"[:2000])
        outputs, result = {}, {"status": "error", **error.report(filename)}
    save(scratch / protocol.OUTPUTS, **outputs)
    write(scratch / protocol.RESULT, dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
