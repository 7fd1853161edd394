"""Open a local page in headless Chromium and report what it did.

Talks the DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out, messages
ending in NUL), so no websocket library and no port are needed. Network.requestWillBeSent
sees every request the page tries, including ones a Content-Security-Policy then blocks;
Runtime and Log events carry console errors, exceptions and CSP violations.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    url: str
    requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    text: str = ""
    loaded: bool = False


class _Pipe:
    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int) -> None:
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        msg = json.loads(raw)
        if msg.get("method") == "Page.javascriptDialogOpening":
            # A dialog blocks the page until answered; record it (as an event) and dismiss it.
            self.send("Page.handleJavaScriptDialog", {"accept": True}, self.session)
        return msg

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg is None:
                raise TimeoutError(f"no answer to {method}")
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def drain(self, seconds: float, until: str | None = None) -> None:
        deadline = time.monotonic() + seconds
        while True:
            msg = self._read(deadline)
            if msg is None:
                return
            self.events.append(msg)
            if until and msg.get("method") == until:
                return


def probe(chromium: str, page: Path, settle: float = 1.5) -> PageReport:
    """Load `page` from disk, wait for load plus `settle` seconds, collect what happened."""
    if not page.is_file():  # Chromium would show its own error page without a console error
        raise FileNotFoundError(page)
    url = page.resolve().as_uri()
    report = PageReport(url=url)
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()

    def wire() -> None:  # runs in the child: its fd 3 reads our commands, fd 4 writes answers
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False)  # noqa: PLW1509 - wire() only dup2s two fds
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        pipe = _Pipe(proc, to_chrome_w, from_chrome_r)
        try:
            target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            pipe.session = session
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.call(f"{domain}.enable", session=session)
            pipe.call("Page.navigate", {"url": url}, session=session)
            pipe.drain(30, until="Page.loadEventFired")
            pipe.drain(settle)
            report.loaded = any(e.get("method") == "Page.loadEventFired" for e in pipe.events)
            text = pipe.call("Runtime.evaluate", {"expression": "document.body.innerText",
                                                  "returnByValue": True}, session=session)
            report.text = str(text.get("result", {}).get("value", ""))
        finally:
            try:
                pipe.send("Browser.close")
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            os.close(to_chrome_w)
            os.close(from_chrome_r)
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            req = params["request"]["url"]
            report.requests.append(req)
            if not req.startswith(LOCAL_SCHEMES):
                report.external_requests.append(req)
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            report.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                  for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            report.console_errors.append(details.get("exception", {}).get("description")
                                         or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            report.console_errors.append(params["entry"].get("text", ""))
        elif method == "Page.javascriptDialogOpening":
            report.dialogs.append(params.get("message", ""))
    return report


def screenshot(chromium: str, page: Path, out: Path, size: str = "1280,1600") -> Path:
    """Chromium's own --screenshot of the page, from disk."""
    if not page.is_file():
        raise FileNotFoundError(page)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
                        f"--screenshot={out}", page.resolve().as_uri()],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, check=False)
    return out
