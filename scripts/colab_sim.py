"""Python half of scripts/colab_sim.sh (see the comment at its top).

    python scripts/colab_sim.py write-weights OUT.h5           # with .venv (has the bundle)
    python scripts/colab_sim.py check-kernel KERNEL            # with .colab-venv
    python scripts/colab_sim.py execute NOTEBOOK OUT.ipynb KERNEL [--cwd /content] [--timeout 600]

``write-weights`` writes the VGG19 weights that ``nst_helpers.weights.load_vgg19_weights``
finds offline as Keras' ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` (the layout
``keras.applications.VGG19`` saves and reads), then reads the file back through
``nst_helpers.weights.read_keras_h5`` and checks it is the same.
``execute`` runs a notebook top to bottom with nbclient, as Colab's Run all does (every
cell, NBVAL markers and tags ignored), stopping at the first error; it always writes the
executed copy and exits 1 when a cell failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

# The layers of keras.applications.VGG19(include_top=False), in order; pools have no weights.
_VGG19_LAYERS = ["input_layer"] + [
    name for block, convs in enumerate([2, 2, 4, 4, 4], start=1)
    for name in [*(f"block{block}_conv{k}" for k in range(1, convs + 1)), f"block{block}_pool"]
]


def write_keras_h5(weights: dict, path: Path) -> None:
    """``{layer: (kernel_hwio, bias)}`` as a Keras (legacy ``save_weights``) HDF5 file."""
    import h5py
    import numpy as np

    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as h5:
        h5.attrs["layer_names"] = np.array([name.encode() for name in _VGG19_LAYERS])
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["keras_version"] = b"2.1.5"
        for name in _VGG19_LAYERS:
            group = h5.create_group(name)
            if name not in weights:
                group.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            kernel, bias = weights[name]
            names = [f"{name}/kernel:0", f"{name}/bias:0"]
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            group.create_dataset(names[0], data=np.asarray(kernel, dtype=np.float32))
            group.create_dataset(names[1], data=np.asarray(bias, dtype=np.float32))
    os.replace(tmp, path)


def cmd_write_weights(args) -> int:
    import numpy as np

    from nst_helpers.weights import VGG19_CONV_SHAPES, load_vgg19_weights, read_keras_h5

    weights, source = load_vgg19_weights(download=False)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_keras_h5(weights, out)
    again = read_keras_h5(out)
    for layer in VGG19_CONV_SHAPES:
        for mine, theirs in zip(again[layer], weights[layer]):
            if not np.array_equal(mine, theirs):
                raise SystemExit(f"{out}: {layer} did not read back unchanged")
    print(f"wrote {out.name} ({out.stat().st_size / 2**20:.0f} MiB) from {source}")
    return 0


def _client(nb, kernel: str, cwd: str, timeout: int):
    from nbclient import NotebookClient

    return NotebookClient(nb, kernel_name=kernel, timeout=timeout, startup_timeout=120,
                          allow_errors=False, record_timing=True, resources={"metadata": {"path": cwd}})


def cmd_check_kernel(args) -> int:
    """The simulated kernel looks like Colab's: google.colab imported (the stub), cwd /content."""
    import nbformat

    code = ('import os, sys\n'
            'assert "google.colab" in sys.modules, "google.colab is not imported at kernel start"\n'
            'assert sys.modules["google.colab"].__file__.startswith(os.environ["COLAB_SIM_STUB"]), '
            'sys.modules["google.colab"].__file__\n'
            'import google.protobuf  # the namespace package still reaches the real google.*\n'
            'print(os.getcwd(), sys.executable)')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    _client(nb, args.kernel, args.cwd, 120).execute()
    print("kernel ok:", "".join(o.get("text", "") for o in nb.cells[0].outputs).strip())
    return 0


def cmd_execute(args) -> int:
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.notebook, as_version=4)
    start = time.monotonic()
    failure = None
    try:
        _client(nb, args.kernel, args.cwd, args.timeout).execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failure = error
    seconds = time.monotonic() - start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    stderr = [i for i, c in code_cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    if failure is not None:
        failed = next((i for i, c in reversed(code_cells)
                       if any(o.output_type == "error" for o in c.get("outputs", []))), None)
        if failed is None:  # a timeout or a dead kernel leaves no error output
            failed = next((i for i, c in reversed(code_cells) if c.get("execution_count")), None)
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(failure)).strip().splitlines()  # no terminal colours
        count = nb.cells[failed].get("execution_count") if failed is not None else None
        print(f"FAILED at cell {failed} (In [{count}]): "
              f"{lines[-1][:300] if lines else type(failure).__name__}")
    if stderr:
        print(f"note: stderr output in cell(s) {sorted(set(stderr))}")
    print(f"seconds={seconds:.1f}")
    return 1 if failure is not None else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    weights = commands.add_parser("write-weights")
    weights.add_argument("out")
    check = commands.add_parser("check-kernel")
    check.add_argument("kernel")
    check.add_argument("--cwd", default="/content")
    execute = commands.add_parser("execute")
    execute.add_argument("notebook")
    execute.add_argument("out")
    execute.add_argument("kernel")
    execute.add_argument("--cwd", default="/content")
    execute.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    handler = {"write-weights": cmd_write_weights, "check-kernel": cmd_check_kernel, "execute": cmd_execute}
    return handler[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
