"""Loaded by Python at start-up when this directory is on PYTHONPATH: Ctrl-C for a test.

With INTERRUPT_AFTER_SCRIPTS=N, the process sends itself SIGINT (what Ctrl-C sends) right
after it has written its N-th `.slurm` file, so a test interrupts a copy in the middle
whatever the machine's load, instead of guessing when the middle comes.
"""

import os
import pathlib
import signal

_LIMIT = int(os.environ.get("INTERRUPT_AFTER_SCRIPTS", "0"))
if _LIMIT:
    _write_bytes = pathlib.Path.write_bytes
    _written = 0

    def _counting_write_bytes(self, data):
        global _written
        result = _write_bytes(self, data)
        if self.suffix == ".slurm":
            _written += 1
            if _written == _LIMIT:
                os.kill(os.getpid(), signal.SIGINT)
        return result

    pathlib.Path.write_bytes = _counting_write_bytes
