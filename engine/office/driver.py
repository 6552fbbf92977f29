"""LibreOffice's side of the Office pool: one ``soffice`` process and the UNO client driving it.

The pool runs this file as a script, one copy per pooled process, with a
Python that has LibreOffice's UNO bridge (Debian's ``python3-uno`` is built
for the system ``python3``, not for whatever interpreter runs pdfbinder), so
it must not import pdfbinder::

    PYTHON driver.py SOFFICE_BIN PROFILE_URL PIPE_NAME POOL_FOLDER

It starts ``soffice.bin`` headless with its own user profile, listening on a
private UNO pipe, connects to it and converts one document per request. The
lines it exchanges with the pool on stdin/stdout are JSON objects:

* first answer: ``{"ready": true, "pid": N, "sockets": [PATH, ...]}`` once
  LibreOffice accepts requests (``N`` is its process id and process group;
  the paths are the Unix sockets it listens on, see below), or
  ``{"ready": false, "detail": "..."}``;
* request ``{"input": PATH, "output": PATH, "filter": NAME|null,
  "options": STR|null, "password": STR|null}``;
* answer ``{"ok": true}`` or ``{"ok": false, "error": KIND, "detail": STR}``
  where KIND is ``password`` (one is needed), ``wrong-password``, ``load``
  (LibreOffice cannot read the input) or ``export``.

The end of stdin (the process that runs the pool died, or ended without
closing it) kills LibreOffice and ends the driver, so no ``soffice`` outlives
its pool; LibreOffice also gets SIGKILL should the driver itself die. The
driver then also removes ``POOL_FOLDER``, the pool's own folder (profiles and
the documents being converted), which its dead pool can no longer remove. When
LibreOffice ends (it crashed), so does the driver, and the pool, finding its
stdout closed, starts a new pair.

LibreOffice makes its sockets (the UNO pipe and the one a second start of the
same profile would talk to) as files in ``/tmp``, whatever ``TMPDIR`` says,
and only a LibreOffice that exits by itself removes them. Killed, it leaves
two files behind per start, so whoever kills it removes them: the driver
when its stdin ends, the pool when it stops a pair.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

_PR_SET_PDEATHSIG = 1
_FIRST_START_RESTART = 81
"""soffice's exit status after it initialised a new profile and wants to be started again."""
_NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
_NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE
_EXPORT_FILTERS = (
    ("com.sun.star.text.GenericTextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
)
_EXPORT_OPTIONS = (
    ("ExportBookmarks", True),  # headings → PDF outline
    ("ExportNotes", False),
    ("ExportFormFields", True),
)


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def start_office(binary: str, profile_url: str, pipe: str) -> subprocess.Popen[bytes]:
    """soffice.bin headless on a private pipe, killed by the kernel if this driver dies."""
    libc = ctypes.CDLL(None, use_errno=True)

    def die_with_driver() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    arguments = [
        binary,
        "--headless",
        "--invisible",
        "--nocrashreport",
        "--nodefault",
        "--nologo",
        "--nofirststartwizard",
        "--norestore",
        "--nolockcheck",
        f"-env:UserInstallation={profile_url}",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    return subprocess.Popen(
        arguments,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the pool kills it whole
        preexec_fn=die_with_driver,  # the driver is single-threaded here
    )


def kill_office(office: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(office.pid, signal.SIGKILL)
    office.wait()


def office_sockets(pid: int) -> list[str]:
    """The paths of LibreOffice's sockets that process ``pid`` holds, read from /proc."""
    inodes = set()
    fds = f"/proc/{pid}/fd"
    for fd in os.listdir(fds):
        with contextlib.suppress(OSError):  # closed meanwhile
            target = os.readlink(os.path.join(fds, fd))
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    paths = set()
    with open("/proc/net/unix", encoding="utf-8", errors="replace") as table:
        next(table)  # Num RefCount Protocol Flags Type St Inode Path
        for line in table:
            fields = line.split()
            if len(fields) == 8 and fields[6] in inodes:
                path = fields[7]
                if path.startswith("/") and os.path.basename(path).startswith("OSL_PIPE_"):
                    paths.add(path)
    return sorted(paths)


def remove_files(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def connect(uno: Any, office: subprocess.Popen[bytes], start: Any, pipe: str) -> tuple[Any, Any]:
    """The running office's desktop, waiting for LibreOffice to open its pipe."""
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            status = office.poll()
            if status == _FIRST_START_RESTART:
                office = start()
            elif status is not None:
                raise RuntimeError(f"soffice exited with status {status} while starting") from None
            time.sleep(0.05)
    desktop = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", context
    )
    return office, desktop


def make_handler(uno: Any, unohelper: Any) -> Any:
    """An interaction handler that answers every question LibreOffice asks with "abort".

    Without one, a password prompt and a damaged file look the same (the load
    just fails); with it, the driver knows that a password was asked for.
    """
    from com.sun.star.task import XInteractionHandler

    abort_type = uno.getTypeByName("com.sun.star.task.XInteractionAbort")
    password_type = uno.getTypeByName("com.sun.star.task.XInteractionPassword")

    class Handler(unohelper.Base, XInteractionHandler):  # type: ignore[misc]
        def __init__(self) -> None:
            self.password_asked = False

        def handle(self, request: Any) -> None:
            # The question itself (request.getRequest()) cannot be read through pyuno
            # (it fails with a SystemError), so the answers offered tell what is asked.
            continuations = request.getContinuations()
            if any(c.queryInterface(password_type) is not None for c in continuations):
                self.password_asked = True
            for continuation in continuations:
                if continuation.queryInterface(abort_type) is not None:
                    continuation.select()
                    return

    return Handler()


def properties(uno: Any, pairs: Any) -> tuple[Any, ...]:
    values = []
    for name, value in pairs:
        item = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        item.Name, item.Value = name, value
        values.append(item)
    return tuple(values)


def lost_office(error: BaseException) -> bool:
    """Whether ``error`` says the connection to LibreOffice is gone (it died)."""
    text = f"{type(error).__name__} {getattr(error, 'Message', '')} {error}"
    return "DisposedException" in text or "disposed" in text.lower()


def convert(uno: Any, unohelper: Any, desktop: Any, request: dict[str, Any]) -> dict[str, Any]:
    handler = make_handler(uno, unohelper)
    load = [
        ("Hidden", True),
        ("ReadOnly", True),
        ("MacroExecutionMode", _NEVER_EXECUTE),
        ("UpdateDocMode", _NO_UPDATE),
        ("InteractionHandler", handler),
    ]
    if request.get("filter"):
        load.append(("FilterName", request["filter"]))
    if request.get("options"):
        load.append(("FilterOptions", request["options"]))
    password = request.get("password")
    if password:
        load.append(("Password", password))
    detail = ""
    try:
        document = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(request["input"]), "_blank", 0, properties(uno, load)
        )
    except Exception as error:  # IOException, IllegalArgumentException: the file is unreadable
        document, detail = None, str(getattr(error, "Message", "") or error)
        if lost_office(error):
            raise
    if document is None:
        if handler.password_asked:
            return {"ok": False, "error": "wrong-password" if password else "password"}
        return {"ok": False, "error": "load", "detail": detail.strip()[:300]}
    try:
        export = next(
            (name for service, name in _EXPORT_FILTERS if document.supportsService(service)), None
        )
        if export is None:
            return {"ok": False, "error": "load", "detail": "not a document LibreOffice can print"}
        filter_data = uno.Any(
            "[]com.sun.star.beans.PropertyValue", properties(uno, _EXPORT_OPTIONS)
        )
        store = properties(uno, [("FilterName", export), ("FilterData", filter_data)])
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(request["output"]), store))
    except Exception as error:
        if lost_office(error):
            raise
        message = str(getattr(error, "Message", "") or error)
        return {"ok": False, "error": "export", "detail": message.strip()[:300]}
    finally:
        with contextlib.suppress(Exception):  # gone with a crashed office; the pool restarts it
            document.close(True)
    return {"ok": True}


def read_requests(
    requests: queue.Queue[dict[str, Any]],
    office: subprocess.Popen[bytes],
    sockets: list[str],
    pool_folder: str,
    leaving: threading.Event,
) -> None:
    """Queue the pool's requests; at the end of stdin kill LibreOffice, remove what the
    pool left, and leave."""
    for line in sys.stdin:
        if line.strip():
            requests.put(json.loads(line))
    leaving.set()
    kill_office(office)
    remove_files(sockets)
    shutil.rmtree(pool_folder, ignore_errors=True)
    os._exit(0)


def exit_with_office(office: subprocess.Popen[bytes], leaving: threading.Event) -> None:
    """End the driver when LibreOffice ends, busy or idle: the pool then starts a new pair."""
    office.wait()
    if not leaving.is_set():  # else read_requests, which killed it, ends the driver
        os._exit(3)


def main() -> int:
    binary, profile_url, pipe, pool_folder = sys.argv[1:5]

    def start() -> subprocess.Popen[bytes]:
        return start_office(binary, profile_url, pipe)

    try:
        import uno
        import unohelper
    except ImportError as error:
        answer({"ready": False, "detail": f"LibreOffice's Python bridge is missing ({error})"})
        return 1
    try:
        office = start()
    except OSError as error:
        answer({"ready": False, "detail": f"cannot start {binary}: {error}"})
        return 1
    try:
        office, desktop = connect(uno, office, start, pipe)
    except Exception as error:
        kill_office(office)
        answer({"ready": False, "detail": str(error)})
        return 1
    try:
        sockets = office_sockets(office.pid)
    except OSError:  # no /proc to read: the files stay, as they would without this
        sockets = []
    requests: queue.Queue[dict[str, Any]] = queue.Queue()
    leaving = threading.Event()
    threading.Thread(
        target=read_requests,
        args=(requests, office, sockets, pool_folder, leaving),
        daemon=True,
    ).start()
    threading.Thread(target=exit_with_office, args=(office, leaving), daemon=True).start()
    answer({"ready": True, "pid": office.pid, "sockets": sockets})
    while True:
        request = requests.get()
        try:
            result = convert(uno, unohelper, desktop, request)
        except Exception as error:
            if lost_office(error):
                kill_office(office)
                os._exit(3)  # no answer: the pool sees the driver end, as after a crash
            result = {"ok": False, "error": "export", "detail": str(error)[:300]}
        answer(result)


if __name__ == "__main__":
    sys.exit(main())
