"""Kernels forked from a warm process: what the build saves on every notebook.

A fresh Python kernel spends about 2.5 s of CPU before a notebook's first line runs:
starting ipykernel and importing pandas, altair (whose jsonschema builds some 40 grammars)
and the book's package. The build's notebooks all start with the same imports, so a
"zygote" process imports them once and each kernel is a fork of it: the same interpreter,
the same modules (one optional import left out, see `serve`), the kernel's own directory,
environment and import path, and each notebook still gets a kernel of its own, started fresh
for it. tests/test_forkkernel.py compares a forked kernel's outputs with a fresh one's, and
`make bench` compares the whole book with the stock build's, file by file.

Two roles, one file:

- `serve` (the zygote): imports the modules, then waits on a Unix socket. For each
  request it forks; the child becomes the kernel (ipykernel, started as
  `python -m ipykernel_launcher` would start it, in the requester's directory and
  environment). The zygote starts no thread of its own, so no lock can be held at the fork
  (numpy's OpenBLAS starts its pool on import and resets it in a forked child itself), and
  it exits when the build that started it closes its stdin.
- `connect` (the kernel process jupyter_client sees): a small process run by the kernel
  manager in place of `python -m ipykernel_launcher`. It asks the zygote for a kernel,
  passes signals on to it (interrupts, termination) and exits when the kernel does, so the
  kernel manager's usual checks (alive, interrupt, kill) work unchanged. If it is killed,
  the kernel sees its connection close and exits too.

Run by _ext/fourpillars_speed.py; stock jupyter-book starts a fresh process for each
notebook instead.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def _become_kernel(conn: socket.socket, stdio: list[int], request: dict) -> None:
    """In the forked child: the kernel a fresh `python -m ipykernel_launcher <args>` would be,
    with the connect process's directory, environment and standard streams."""
    import importlib.util
    import threading
    os.setsid()  # its own session, as jupyter_client starts kernels
    for fd, target in zip(stdio, (0, 1, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["args"]]
    # ipykernel reads its parent's pid from the environment when it is imported, which here
    # was before this kernel's environment existed: given again, as the setting it stands for.
    if os.environ.get("JPY_PARENT_PID"):
        sys.argv.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
    # `python -m ipykernel_launcher` starts with '' first on the path, which the launcher removes;
    # here the first entry is this file's folder, removed alike.
    del sys.path[0]
    conn.sendall(f"{os.getpid()}\n".encode())

    def lifeline():  # the connect process is gone (killed): so is its kernel
        try:
            while conn.recv(1):
                pass
        finally:
            os._exit(1)
    threading.Thread(target=lifeline, daemon=True).start()
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


def serve(path: str, preload: list[str]) -> None:
    # One optional import left out: jsonschema (imported by altair) loads rfc3987-syntax, when it
    # is installed, to check the "iri" string formats, and that package compiles some 40 grammars
    # as it loads (1.1 s). No notebook checks formats (altair validates without a format checker),
    # and jsonschema, finding it missing, simply leaves those two formats unchecked.
    sys.modules.setdefault("rfc3987_syntax", None)
    for name in preload:
        __import__(name)
    # What is imported now lives as long as every kernel: frozen, the garbage collector of each
    # kernel forked from here never walks it again (and does not touch, so copy, its pages).
    gc.freeze()
    import selectors
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)  # closed when the build ends
    print("ready", flush=True)
    while True:
        for key, _ in selector.select(timeout=0.5):
            if key.fileobj is sys.stdin:
                os._exit(0)  # nothing to clean up; a normal exit would spend 0.5 s freeing modules
            conn, _ = server.accept()
            _, stdio, _, _ = socket.recv_fds(conn, 1, 3)
            request = json.loads(_read_line(conn))
            if os.fork() == 0:
                code = 1
                try:
                    selector.close()
                    server.close()
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                    _become_kernel(conn, stdio, request)
                    code = 0
                except SystemExit as stop:
                    code = stop.code if isinstance(stop.code, int) else 1
                finally:
                    os._exit(code)
            conn.close()
            for fd in stdio:
                os.close(fd)
        while True:  # reap the kernels that have exited
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def connect(path: str, args: list[str]) -> int:
    """Stands for `python -m ipykernel_launcher <args>`: returns when that kernel exits."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    socket.send_fds(conn, [b"k"], [0, 1, 2])
    conn.sendall(json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode() + b"\n")
    pid = int(_read_line(conn))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    while True:  # the kernel holds its end open until it exits
        try:
            if not conn.recv(1):
                return 0
        except InterruptedError:
            continue


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3].split(","))
    else:
        sys.exit(connect(sys.argv[2], sys.argv[3:]))
