"""A small pool of long-lived headless LibreOffice processes that turn documents into PDF.

Starting LibreOffice costs seconds; a conversion by a running one costs a
fraction of that. So the pool keeps ``processes`` of them running, each with
its own user profile (two LibreOffice processes cannot share one) and its
own private UNO pipe, and hands each conversion to a free one; more
conversions than processes wait their turn.

Each process is a pair: ``driver.py``, run by a Python that has LibreOffice's
UNO bridge, and the ``soffice.bin`` it starts and drives. The pool talks to
the driver over its stdin/stdout, one JSON line each way per conversion,
and supervises the pair:

* a conversion that has not answered within ``timeout`` seconds has both
  processes killed; that conversion fails (:class:`TooLarge`), and the pair
  is started again in the background for the next one;
* a pair that died (LibreOffice crashed) is started again the same way; the
  document it was converting gets one more try on a fresh pair (LibreOffice
  may have died before it), and fails only if that one dies too;
* a pair is also replaced after a few hundred conversions, since a
  long-running LibreOffice grows;
* no LibreOffice outlives the pool: :meth:`OfficePool.close` kills them,
  and a driver whose stdin closes (the process running the pool died) kills
  its LibreOffice, removes the pool's folder and exits; LibreOffice in turn
  is killed by the kernel if its driver dies;
* a killed LibreOffice leaves no files behind: its temp folder (``TMPDIR``)
  is the pair's own and removed with it, and the socket files it makes in
  ``/tmp`` are removed by whoever killed it (see ``driver.py``).

Nothing starts before it is needed: the first conversion (or
:meth:`OfficePool.start`) finds LibreOffice and starts the processes.

Each profile is written before LibreOffice first reads it, so it never runs
macros (they are disabled outright, and the highest macro security level
stands behind that), never loads content a document links to from elsewhere
(images or sections from URLs: LibreOffice refuses links from a document in
an untrusted location, which a conversion folder always is), and never
updates links when loading. The driver also opens every document read-only,
hidden, with macro execution ``NEVER`` and link updates off, and answers any
question LibreOffice asks (repair this file? which password?) with "abort".
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..errors import CorruptInput, PasswordRequired, TooLarge, UnsupportedInput, WrongPassword

DEFAULT_PROCESSES = 2
DEFAULT_TIMEOUT = 120.0
DEFAULT_START_TIMEOUT = 120.0
INSTALL_HINT = (
    "to enable Office documents: apt install libreoffice-writer-nogui libreoffice-calc-nogui "
    "libreoffice-impress-nogui python3-uno (or give soffice's path with --soffice or "
    "PDFBINDER_SOFFICE)"
)
_RECYCLE_AFTER = 200
_PROBE_SECONDS = 30
_DRIVER = Path(__file__).with_name("driver.py")

_PROFILE_SETTINGS = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "2"),  # Writer: 2 = never
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),  # Calc: 1 = never
    (
        "/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments",
        "AutoCheckEnabled",
        "false",
    ),
    ("/org.openoffice.Office.Common/Misc", "UseOpenCL", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
)


class OfficeUnavailable(UnsupportedInput):
    """LibreOffice, or the Python bridge that drives it, is missing or does not start."""


@dataclass(frozen=True)
class OfficeInstall:
    """The LibreOffice the pool runs: its ``soffice.bin`` and a Python with its UNO bridge."""

    soffice: str
    python: str


def find_office(soffice: str | None = None) -> OfficeInstall:
    """LibreOffice at ``soffice`` (a path or a command; default: ``soffice`` on PATH).

    Raises :class:`OfficeUnavailable` saying what is missing and how to install it.
    """
    given = soffice or shutil.which("soffice") or shutil.which("libreoffice")
    if not given:
        raise OfficeUnavailable(
            "cannot be converted: LibreOffice is not installed (no soffice on PATH); "
            + INSTALL_HINT
        )
    found = shutil.which(given) or given
    real = os.path.realpath(found)
    if not os.path.isfile(real):
        raise OfficeUnavailable(
            f"cannot be converted: LibreOffice is not at {given}; {INSTALL_HINT}"
        )
    program = os.path.dirname(real)
    binary = os.path.join(program, "soffice.bin")
    python = _uno_python(program)
    if python is None:
        raise OfficeUnavailable(
            "cannot be converted: LibreOffice's Python bridge is not installed; "
            "to enable Office documents: apt install python3-uno"
        )
    return OfficeInstall(binary if os.path.isfile(binary) else real, python)


def _uno_python(program: str) -> str | None:
    """A Python that can ``import uno``: LibreOffice's own, the system's, or ours."""
    candidates = [os.path.join(program, "python"), "/usr/bin/python3", sys.executable]
    candidates.append(shutil.which("python3") or "")
    for candidate in dict.fromkeys(c for c in candidates if c and os.path.isfile(c)):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import uno"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PROBE_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def write_profile(directory: str) -> None:
    """A LibreOffice user profile holding only the settings the module docstring lists."""
    user = os.path.join(directory, "user")
    os.makedirs(user, exist_ok=True)
    items = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>"
        for path, name, value in _SETTINGS
    )
    with open(os.path.join(user, "registrymodifications.xcu"), "w", encoding="utf-8") as handle:
        handle.write(_PROFILE_SETTINGS.format(items=items))


class _Stopped(Exception):
    """The pair died while converting, or was killed for overrunning (``timed_out``)."""

    def __init__(self, *, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "crashed")
        self.timed_out = timed_out


class _Office:
    """One LibreOffice and its driver; restarted whenever found dead."""

    def __init__(self, install: OfficeInstall, profile: str) -> None:
        self.install = install
        self.profile = profile
        # LibreOffice's temp folder (TMPDIR): removed with the pair, since a killed
        # LibreOffice leaves its own behind.
        self.scratch = profile + "-tmp"
        self.lock = threading.Lock()
        self.driver: subprocess.Popen[str] | None = None
        self.office_pid: int | None = None
        self.sockets: list[str] = []
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.conversions = 0
        self.retired = False

    def ensure_running(self, start_timeout: float) -> None:
        """Start the pair unless it runs; a failed start is retried once on a new profile."""
        with self.lock:
            if self.retired:
                raise OfficeUnavailable("cannot be converted: the server is shutting down")
            if self.driver is not None and self.driver.poll() is None:
                return
            self._stop()
            try:
                self._start(start_timeout)
            except OfficeUnavailable:
                shutil.rmtree(self.profile, ignore_errors=True)
                self._start(start_timeout)

    def _start(self, start_timeout: float) -> None:
        if not os.path.isdir(os.path.join(self.profile, "user")):
            write_profile(self.profile)
        pipe = f"pdfbinder-{os.getpid()}-{secrets.token_hex(6)}"
        os.makedirs(self.scratch, mode=0o700, exist_ok=True)
        try:
            driver = subprocess.Popen(
                [
                    self.install.python,
                    str(_DRIVER),
                    self.install.soffice,
                    Path(self.profile).as_uri(),
                    pipe,
                    os.path.dirname(self.profile),  # the pool's folder
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "TMPDIR": self.scratch},
                text=True,
                encoding="utf-8",
                start_new_session=True,  # a terminal's Ctrl-C goes to the server, which closes us
            )
        except OSError as error:
            raise OfficeUnavailable(
                f"cannot be converted: LibreOffice did not start ({error})"
            ) from error
        lines: queue.Queue[str | None] = queue.Queue()
        assert driver.stdout is not None
        threading.Thread(
            target=_forward_lines, args=(driver.stdout, lines), name="pdfbinder-office", daemon=True
        ).start()
        try:
            first = lines.get(timeout=start_timeout)
        except queue.Empty:
            _kill(driver, None)
            raise OfficeUnavailable(
                f"cannot be converted: LibreOffice did not start within {start_timeout:g} s"
            ) from None
        ready = _parse_line(first) or {}
        if not ready.get("ready"):
            _kill(driver, None)
            detail = ready.get("detail") or "its driver exited"
            raise OfficeUnavailable(f"cannot be converted: LibreOffice did not start ({detail})")
        self.driver, self.office_pid, self.lines = driver, int(ready["pid"]), lines
        self.sockets = [str(path) for path in ready.get("sockets") or ()]
        self.conversions = 0

    def convert(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The driver's answer to ``request``; :class:`_Stopped` when there is none in time."""
        driver = self.driver
        assert driver is not None and driver.stdin is not None
        try:
            driver.stdin.write(json.dumps(request) + "\n")
            driver.stdin.flush()
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise _Stopped(timed_out=True) from None
        except OSError:  # the driver is gone: a broken pipe
            line = None
        if not line:  # the driver ended: LibreOffice died under this document
            self.stop()
            raise _Stopped(timed_out=False)
        self.conversions += 1
        if self.conversions >= _RECYCLE_AFTER:
            self.stop()
        answer = _parse_line(line)
        if answer is None:  # not the driver's protocol: treat the pair as broken
            self.stop()
            raise _Stopped(timed_out=False)
        return answer

    def stop(self, *, retire: bool = False) -> None:
        """Kill the pair; a retired one is never started again."""
        with self.lock:
            self.retired = self.retired or retire
            self._stop()

    def _stop(self) -> None:
        if self.driver is not None:
            _kill(self.driver, self.office_pid)
        for path in self.sockets:  # a killed LibreOffice leaves them in /tmp
            with suppress(OSError):
                os.unlink(path)
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.driver, self.office_pid, self.sockets = None, None, []

    @property
    def running(self) -> bool:
        return self.driver is not None and self.driver.poll() is None


def _parse_line(line: str | None) -> dict[str, Any] | None:
    """One JSON object line from the driver, or ``None`` for anything else."""
    try:
        value = json.loads(line) if line else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _forward_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _kill(driver: subprocess.Popen[str], office_pid: int | None) -> None:
    """Kill LibreOffice's process group and its driver, and reap the driver."""
    if office_pid is not None:
        with suppress(ProcessLookupError):
            os.killpg(office_pid, signal.SIGKILL)
    driver.kill()
    driver.wait()
    for stream in (driver.stdin, driver.stdout):
        if stream is not None:
            with suppress(OSError):
                stream.close()


class OfficePool:
    """Up to ``processes`` LibreOffice conversions at once; see the module docstring.

    ``timeout`` bounds one conversion, ``start_timeout`` one start of
    LibreOffice; ``soffice`` is its path or command (default: ``soffice`` on
    PATH). Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        processes: int = DEFAULT_PROCESSES,
        timeout: float = DEFAULT_TIMEOUT,
        soffice: str | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        if timeout <= 0 or start_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self.processes = processes
        self.timeout = timeout
        self.soffice = soffice
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._install: OfficeInstall | None = None
        self._folder: str | None = None
        self._offices: list[_Office] = []
        self._free: queue.Queue[_Office] = queue.Queue()
        self._closed = False

    def __enter__(self) -> OfficePool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def install(self) -> OfficeInstall:
        """The LibreOffice this pool runs (looked up once); :class:`OfficeUnavailable` if none."""
        with self._lock:
            if self._install is None:
                self._install = find_office(self.soffice)
            return self._install

    def start(self) -> None:
        """Start every process now, in the background, instead of at the first conversion."""
        for office in self._prepare():
            self._restart_soon(office)

    def _prepare(self) -> list[_Office]:
        install = self.install()
        with self._lock:
            if self._closed:
                raise RuntimeError("the Office pool is closed")
            if not self._offices:
                self._folder = tempfile.mkdtemp(prefix="pdfbinder-office-")
                for number in range(self.processes):
                    office = _Office(install, os.path.join(self._folder, f"profile-{number}"))
                    self._offices.append(office)
                    self._free.put(office)
            return list(self._offices)

    @contextmanager
    def workspace(self) -> Iterator[str]:
        """A fresh folder for one conversion's input and output, removed afterwards."""
        self._prepare()
        folder = tempfile.mkdtemp(prefix="job-", dir=self._folder)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def convert(
        self,
        input_path: str,
        output_path: str,
        *,
        import_filter: str | None = None,
        filter_options: str | None = None,
        password: str | None = None,
    ) -> None:
        """Convert one document file to a PDF file with the next free LibreOffice.

        Raises :class:`OfficeUnavailable`, :class:`TooLarge` (past the timeout),
        :class:`PasswordRequired`, :class:`WrongPassword` or
        :class:`CorruptInput`, each without an input name (the caller knows it).
        """
        self._prepare()
        request = {
            "input": input_path,
            "output": output_path,
            "filter": import_filter,
            "options": filter_options,
            "password": password,
        }
        # A LibreOffice that dies under a document may have died before it (idle, killed
        # from outside): the document gets a second, fresh one before it is blamed.
        for attempt in (1, 2):
            office = self._free.get()
            try:
                office.ensure_running(self.start_timeout)
                answer = office.convert(request, self.timeout)
            except _Stopped as stopped:
                self._restart_soon(office)
                if stopped.timed_out:
                    raise TooLarge(
                        f"took longer than the {self.timeout:g} s conversion limit; "
                        "LibreOffice was stopped and restarted"
                    ) from None
                if attempt == 2:
                    raise CorruptInput("made LibreOffice crash; it was restarted") from None
                continue
            finally:
                self._free.put(office)
            if not office.running and not office.retired:
                self._restart_soon(office)
            _raise_for(answer)
            return

    def _restart_soon(self, office: _Office) -> None:
        """Start ``office`` again in the background, so the next conversion finds it ready."""

        def restart() -> None:
            # A failure here is reported by the next conversion, which tries again.
            with suppress(OfficeUnavailable, OSError):
                office.ensure_running(self.start_timeout)

        threading.Thread(target=restart, name="pdfbinder-office-start", daemon=True).start()

    def close(self) -> None:
        """Stop every LibreOffice and remove their profiles; conversions in flight fail."""
        with self._lock:
            self._closed = True
            offices, self._offices = self._offices, []
            folder, self._folder = self._folder, None
        for office in offices:
            office.stop(retire=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _raise_for(answer: dict[str, Any]) -> None:
    """Nothing for a converted document; the engine error a failed one stands for."""
    if answer.get("ok"):
        return
    error, detail = answer.get("error"), str(answer.get("detail") or "").strip()
    if error == "password":
        raise PasswordRequired("is password-protected; a password is required")
    if error == "wrong-password":
        raise WrongPassword("is password-protected and the password given does not open it")
    reason = f" ({detail})" if detail else ""
    if error == "load":
        raise CorruptInput(
            f"cannot be read by LibreOffice; it is damaged or not what it seems{reason}"
        )
    raise CorruptInput(f"could not be converted to PDF by LibreOffice{reason}")
