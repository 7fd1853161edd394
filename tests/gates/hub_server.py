"""A local server speaking the part of the Hugging Face Hub's HTTP API that
huggingface_hub's `create_repo` and `upload_folder` (`create_commit`) use:

    POST /api/repos/create                      create a model repository (409 if it exists)
    POST /api/validate-yaml                     a README's metadata: the YAML front matter
                                                must parse, its model-index must read back
                                                with huggingface_hub's own parser
    POST /api/models/<repo>/preupload/<rev>     how each file travels: "regular" here, so
                                                its content comes inline in the commit
    POST /api/models/<repo>/commit/<rev>        NDJSON: a header line, then one line per
                                                file with its base64 content

It keeps every committed file in memory (repo -> path -> bytes), the commits, and the
Authorization header of every request, so a test can check what arrived and with which
token. Anything else it is asked is answered 404 and recorded, so a new request the
client starts making shows up as a failing test rather than passing silently.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import yaml
from huggingface_hub.repocard_data import model_index_to_eval_results

if TYPE_CHECKING:
    from typing_extensions import Self


class HubState:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.commits: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.unknown: list[str] = []
        self.validated: list[dict[str, Any]] = []
        self.lock = threading.Lock()


def _handler(state: HubState, base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: the test reads `state`
            pass

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            body = self._body()
            with state.lock:
                state.auth.append(self.headers.get("Authorization"))
            if path == "/api/repos/create":
                req = json.loads(body)
                repo = f"{req['organization']}/{req['name']}" if req.get("organization") \
                    else req["name"]
                with state.lock:
                    if repo in state.repos:
                        return self._reply(409, {"error": "You already created this model repo",
                                                 "url": f"{base[0]}/{repo}"})
                    state.repos[repo] = {}
                return self._reply(200, {"url": f"{base[0]}/{repo}"})
            if path == "/api/validate-yaml":
                return self._validate(json.loads(body)["content"])
            parts = path.split("/")
            if len(parts) >= 7 and parts[1:3] == ["api", "models"]:
                repo, action = f"{parts[3]}/{parts[4]}", parts[5]
                if repo not in state.repos:
                    return self._reply(404, {"error": "Repository not found"})
                if action == "preupload":
                    files = json.loads(body)["files"]
                    return self._reply(200, {"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files]})
                if action == "commit":
                    return self._commit(repo, body)
            with state.lock:
                state.unknown.append(f"POST {self.path}")
            self._reply(404, {"error": f"not served here: {self.path}"})

        def _validate(self, content: str) -> None:
            try:
                if not content.startswith("---\n"):
                    raise ValueError("no YAML front matter")
                meta = yaml.safe_load(content.split("---\n", 2)[1])
                if not isinstance(meta, dict):
                    raise TypeError("front matter is not a mapping")
                if "model-index" in meta:
                    model_index_to_eval_results(meta["model-index"])
            except (ValueError, TypeError, KeyError, yaml.YAMLError) as exc:  # a 400
                return self._reply(400, {"errors": [{"message": f"{type(exc).__name__}: {exc}"}]})
            with state.lock:
                state.validated.append(meta)
            self._reply(200, {"errors": [], "warnings": []})

        def _commit(self, repo: str, body: bytes) -> None:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            header = next(v["value"] for v in lines if v["key"] == "header")
            files = {}
            for line in lines:
                if line["key"] == "file":
                    value = line["value"]
                    assert value["encoding"] == "base64"
                    files[value["path"]] = base64.b64decode(value["content"])
                elif line["key"] != "header":  # lfsFile, deletedFile: not expected here
                    with state.lock:
                        state.unknown.append(f"commit operation {line['key']}")
                    return self._reply(400, {"error": f"unsupported {line['key']}"})
            oid = hashlib.sha1(body).hexdigest()
            with state.lock:
                state.repos[repo].update(files)
                state.commits.append({"repo": repo, "summary": header.get("summary"),
                                      "files": sorted(files), "oid": oid})
            self._reply(200, {"commitUrl": f"{base[0]}/{repo}/commit/{oid}",
                              "commitOid": oid, "pullRequestUrl": None})

        def do_GET(self) -> None:
            with state.lock:
                state.unknown.append(f"GET {self.path}")
            self._reply(404, {"error": f"not served here: {self.path}"})

    return Handler


class LocalHub:
    """`with LocalHub() as hub:` serves on 127.0.0.1 at a free port; hub.url, hub.state."""

    def __init__(self) -> None:
        self.state = HubState()
        self._base: list[str] = [""]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state, self._base))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._base[0] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
