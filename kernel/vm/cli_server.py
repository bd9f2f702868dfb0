"""One Python interpreter for the VM suite's ``auctioneer`` commands (guest.sh).

Under emulation each start of the command line costs some 15-20 s: the
interpreter and its imports read hundreds of files over 9p. ``make
scx-vm-test`` runs nine commands, so guest.sh starts this once and sends
it each command instead: the same ``auctioneer`` entry point
(:func:`auctioneer.cli.main`), the same arguments, output and exit status.

Usage: ``cli_server.py DIR``, DIR holding two FIFOs that guest.sh made:
``cli.in`` takes one request per open, the arguments one a line (an empty
request ends the server); ``cli.out`` answers with the exit status once the
command's output (its children's included) is in DIR/stdout and DIR/stderr.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from auctioneer.cli import main


def run(args: list[str], d: Path) -> int:
    """One command, with file descriptors 1 and 2 on DIR's files, as a fresh process's would be."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(d / "stdout", "wb") as out, open(d / "stderr", "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = main(args)
        except SystemExit as exc:  # a command that exits rather than returns
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # that command's crash, reported as a fresh start would
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    return code


def serve(d: Path) -> None:
    while True:
        request = (d / "cli.in").read_bytes()
        if not request:
            return
        code = run(request.decode().split("\n")[:-1], d)
        (d / "cli.out").write_text(f"{code}\n")


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
