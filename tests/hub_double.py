"""A loopback stand-in for the Hugging Face Hub, for tests that drive the real huggingface_hub client.

The Hub cannot be reached from the machines these tests run on, so ``HubDouble`` serves the few
routes ganzoo's publishing and loading use, on 127.0.0.1 at a free port, from repositories kept in
memory:

    POST /api/repos/create                          create a repo (409 if it exists)
    POST /api/validate-yaml                         accept a README whose YAML header parses
    POST /api/models/{id}/preupload/{rev}           every file is "regular": it travels in the commit
    POST /api/models/{id}/commit/{rev}              NDJSON: header / file (base64) / deletedFile lines
    POST /api/models/{id}/branch/{branch}           create a branch (409 if it exists)
    GET  /api/models/{id}[/revision/{rev}]          model info with siblings and sha
    GET  /api/models/{id}/tree/{rev}[/{path}]       files and folders
    HEAD/GET /{id}/resolve/{rev}/{path}             X-Repo-Commit, ETag, Content-Length

Errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) as the Hub does, so
the client raises its usual exceptions. The server stops by itself after ``lifetime`` seconds, and
each connection times out, so a test that forgets to stop it cannot hang the suite.

Also here: :func:`seed_hf_cache`, which lays files out as the HF cache does, and :func:`tiny_run`,
a two-step training run to export, load and publish.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

MAX_BODY = 64 * 1024 * 1024
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob, which the Hub uses as the ETag of a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    summary: str
    files: dict[str, bytes]  # the whole tree after this commit
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass
class Repo:
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def commit(self, branch: str, summary: str, added: dict[str, bytes], deleted: list[str]) -> Commit:
        parent = self.branches.get(branch)
        files = dict(self.commits[parent].files) if parent else {}
        for path in deleted:
            files = {p: v for p, v in files.items() if p != path and not p.startswith(path.rstrip("/") + "/")}
        files.update(added)
        seed = f"{self.repo_id}\0{parent}\0{summary}\0{time.time_ns()}\0{len(self.commits)}".encode()
        oid = hashlib.sha1(seed).hexdigest()
        commit = Commit(oid, parent, summary, files, sorted(added), sorted(deleted))
        self.commits[oid] = commit
        self.branches[branch] = oid
        return commit

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)

    def history(self, branch: str = "main") -> list[Commit]:
        """Commits reachable from a branch, newest first."""
        out, oid = [], self.branches.get(branch)
        while oid:
            out.append(self.commits[oid])
            oid = self.commits[oid].parent
        return out


class _HubError(Exception):
    def __init__(self, status: int, code: str | None, message: str, commit: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.commit, self.extra = status, code, message, commit, extra


class HubDouble:
    """The in-memory Hub. ``url`` is its endpoint; ``repos`` and ``requests`` are there to inspect."""

    def __init__(self, lifetime: float = 120.0) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.lifetime = lifetime
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "HubDouble":
        double = self

        class Handler(_Handler):
            hub = double

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()

    def __enter__(self) -> "HubDouble":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the Hub double is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- helpers for tests --------------------------------------------------------------------------
    def repo(self, repo_id: str) -> Repo:
        return self.repos[repo_id]

    def requests_since(self, mark: int) -> list[tuple[str, str]]:
        return self.requests[mark:]

    # -- routes ----------------------------------------------------------------------------------
    def _repo(self, repo_id: str, authorized: bool) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and not authorized):
            raise _HubError(404, "RepoNotFound", f"Repository {repo_id} not found")
        return repo

    def _commit_of(self, repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return commit

    def create_repo(self, body: dict[str, Any]) -> dict[str, Any]:
        name, org = body.get("name"), body.get("organization")
        if not name:
            raise _HubError(400, None, "no repo name")
        if body.get("type", "model") not in ("model", None):
            raise _HubError(400, None, "the Hub double only holds model repos")
        repo_id = f"{org}/{name}" if org else name
        if repo_id in self.repos:
            raise _HubError(409, None, "You already created this model repo", url=f"{self.url}/{repo_id}")
        repo = Repo(repo_id, private=body.get("visibility") == "private" or bool(body.get("private")))
        repo.commit("main", "initial commit", {".gitattributes": GITATTRIBUTES}, [])
        self.repos[repo_id] = repo
        return {"url": f"{self.url}/{repo_id}", "name": repo_id}

    def validate_yaml(self, body: dict[str, Any]) -> dict[str, Any]:
        import yaml

        content = str(body.get("content", ""))
        if content.startswith("---"):
            header = content.split("---", 2)[1] if content.count("---") >= 2 else ""
            try:
                yaml.safe_load(header)
            except yaml.YAMLError as exc:
                raise _HubError(400, None, f"Invalid YAML: {exc}") from None
        return {"errors": [], "warnings": []}

    def preupload(self, repo: Repo, revision: str, body: dict[str, Any]) -> dict[str, Any]:
        commit = self._commit_of(repo, revision)
        files = []
        for item in body.get("files", []):
            path = item["path"]
            existing = commit.files.get(path)
            oid = git_blob_sha1(existing) if existing is not None else None
            files.append({"path": path, "uploadMode": "regular", "shouldIgnore": False, "oid": oid})
        return {"files": files, "commitOid": commit.oid}

    def commit(self, repo: Repo, revision: str, raw: bytes) -> dict[str, Any]:
        if revision not in repo.branches:
            raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        summary, added, deleted = "", {}, []
        for line in raw.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item.get("key"), item.get("value", {})
            if key == "header":
                summary = value.get("summary", "")
                parent = value.get("parentCommit")
                if parent and parent != repo.branches[revision]:
                    raise _HubError(412, None, "parent commit is not the head of the branch")
            elif key == "file":
                if value.get("encoding") != "base64":
                    raise _HubError(400, None, "file content must be base64")
                added[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            else:  # lfsFile and friends: preupload told the client to send everything inline
                raise _HubError(400, None, f"unsupported commit line {key!r}")
        if not summary:
            raise _HubError(400, None, "a commit needs a summary")
        commit = repo.commit(revision, summary, added, deleted)
        return {"success": True, "commitOid": commit.oid, "commitUrl": f"{self.url}/{repo.repo_id}/commit/{commit.oid}"}

    def create_branch(self, repo: Repo, branch: str, body: dict[str, Any]) -> dict[str, Any]:
        if branch in repo.branches:
            raise _HubError(409, None, f"Branch {branch} already exists")
        start = self._commit_of(repo, body.get("startingPoint") or "main")
        repo.branches[branch] = start.oid
        return {}

    def model_info(self, repo: Repo, revision: str) -> dict[str, Any]:
        commit = self._commit_of(repo, revision)
        return {
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "sha": commit.oid,
            "private": repo.private,
            "library_name": "ganzoo",
            "siblings": [{"rfilename": p, "size": len(v)} for p, v in sorted(commit.files.items())],
        }

    def tree(self, repo: Repo, revision: str, path: str, recursive: bool) -> list[dict[str, Any]]:
        commit = self._commit_of(repo, revision)
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for name, data in sorted(commit.files.items()):
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) :]
            if recursive or "/" not in rest:
                entries[name] = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": name}
            parts = rest.split("/")[:-1]
            for depth in range(1, len(parts) + 1 if recursive else min(1, len(parts)) + 1):
                folder = prefix + "/".join(parts[:depth])
                entries.setdefault(folder, {"type": "directory", "oid": hashlib.sha1(folder.encode()).hexdigest(), "size": 0, "path": folder})
        if prefix and not entries:
            raise _HubError(404, "EntryNotFound", f"{path} does not exist", commit.oid)
        return list(entries.values())

    def resolve(self, repo: Repo, revision: str, path: str) -> tuple[Commit, bytes]:
        commit = self._commit_of(repo, revision)
        data = commit.files.get(path)
        if data is None:
            raise _HubError(404, "EntryNotFound", f"{path} does not exist at {revision}", commit.oid)
        return commit, data


class _Handler(BaseHTTPRequestHandler):
    hub: HubDouble
    protocol_version = "HTTP/1.0"  # one request per connection: simple and enough for tests
    timeout = 15  # seconds a connection may sit idle

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -- plumbing ------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY:
                    raise _HubError(413, None, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _HubError(413, None, "request body too large")
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict[str, Any]:
        raw = self._body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise _HubError(400, None, "body is not JSON") from None
        if not isinstance(data, dict):
            raise _HubError(400, None, "body must be a JSON object")
        return data

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode())

    def _send_error(self, err: _HubError) -> None:
        headers = {"X-Error-Message": err.message}
        if err.code:
            headers["X-Error-Code"] = err.code
        if err.commit:
            headers["X-Repo-Commit"] = err.commit
        self._send(err.status, json.dumps({"error": err.message, **err.extra}).encode(), headers)

    def _route(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        hub = self.hub
        authorized = bool(self.headers.get("Authorization"))
        with hub.lock:
            hub.requests.append((self.command, url.path))
        try:
            with hub.lock:
                result = self._dispatch(hub, parts, query, authorized)
        except _HubError as err:
            self._send_error(err)
            return
        if isinstance(result, tuple):  # a file from /resolve
            commit, data = result
            self._send(200, data, {"X-Repo-Commit": commit.oid, "ETag": f'"{git_blob_sha1(data)}"'}, "application/octet-stream")
        else:
            self._send_json(result)

    def _dispatch(self, hub: HubDouble, parts: list[str], query: dict[str, str], authorized: bool) -> Any:
        method = self.command
        if parts[:1] == ["api"]:
            if method == "POST" and parts[1:] == ["repos", "create"]:
                return hub.create_repo(self._json_body())
            if method == "POST" and parts[1:] == ["validate-yaml"]:
                return hub.validate_yaml(self._json_body())
            if len(parts) >= 4 and parts[1] == "models":
                repo = hub._repo(f"{parts[2]}/{parts[3]}", authorized)
                rest = parts[4:]
                if method == "POST" and len(rest) == 2 and rest[0] == "preupload":
                    return hub.preupload(repo, rest[1], self._json_body())
                if method == "POST" and len(rest) == 2 and rest[0] == "commit":
                    return hub.commit(repo, rest[1], self._body())
                if method == "POST" and len(rest) == 2 and rest[0] == "branch":
                    return hub.create_branch(repo, rest[1], self._json_body())
                if method == "GET" and not rest:
                    return hub.model_info(repo, "main")
                if method == "GET" and len(rest) == 2 and rest[0] == "revision":
                    return hub.model_info(repo, rest[1])
                if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
                    recursive = query.get("recursive", "").lower() in ("1", "true")
                    return hub.tree(repo, rest[1], "/".join(rest[2:]), recursive)
            raise _HubError(404, None, f"the Hub double has no route {method} /{'/'.join(parts)}")
        if method in ("GET", "HEAD") and len(parts) >= 5 and parts[2] == "resolve":
            repo = hub._repo(f"{parts[0]}/{parts[1]}", authorized)
            return hub.resolve(repo, parts[3], "/".join(parts[4:]))
        raise _HubError(404, None, f"the Hub double has no route {method} /{'/'.join(parts)}")

    do_GET = do_POST = do_HEAD = _route


# -- pytest fixtures ----------------------------------------------------------------------------------
def _point_client_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, cache: Path, offline: bool) -> None:
    """huggingface_hub reads its environment at import time, so tests patch its constants."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubDouble]:
    """A running Hub double, with huggingface_hub pointed at it and a fresh, empty HF cache."""
    with HubDouble() as double:
        _point_client_at(monkeypatch, double.url, tmp_path / "hf-cache", offline=False)
        yield double


@pytest.fixture
def offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HF_HUB_OFFLINE=1 and an empty HF cache folder (seed it with :func:`seed_hf_cache`)."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    _point_client_at(monkeypatch, "http://127.0.0.1:9", cache, offline=True)
    return cache


@pytest.fixture
def unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Online mode, but the endpoint refuses connections (a closed loopback port), as with no network."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago and has nobody listening now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    _point_client_at(monkeypatch, endpoint, tmp_path / "hf-cache", offline=False)
    return endpoint


# -- a seeded HF cache ------------------------------------------------------------------------------------
def seed_hf_cache(cache_dir: Path, repo_id: str, folder: Path, revision: str = "main") -> str:
    """Lay out ``folder``'s files as the HF cache holds a downloaded repo; returns the commit hash.

    ``models--org--name/blobs/<etag>`` holds the bytes (sha256 for weights as for LFS files, the git
    blob id otherwise), ``snapshots/<commit>/<file>`` links to them, ``refs/<revision>`` names the
    commit.
    """
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    commit = hashlib.sha1(b"".join(hashlib.sha256(p.read_bytes()).digest() for p in files)).hexdigest()
    storage = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for path in files:
        data = path.read_bytes()
        etag = hashlib.sha256(data).hexdigest() if path.suffix == ".safetensors" else git_blob_sha1(data)
        blob = storage / "blobs" / etag
        if not blob.exists():
            shutil.copyfile(path, blob)
        link = snapshot / path.name
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(blob, link.parent), link)
    (storage / "refs").mkdir(exist_ok=True)
    (storage / "refs" / revision).write_text(commit)  # no newline: the client reads it verbatim
    return commit


# -- a tiny trained run ---------------------------------------------------------------------------------------
def tiny_run(out: Path, *, steps: int = 2) -> Path:
    """A DCGAN trained for two steps on random images: small, fast, with EMA and a checkpoint."""
    import ganzoo
    from ganzoo.build import PluginSpec

    arch = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
    ganzoo.train(
        arch, "non-saturating", PluginSpec("fake", {"n": 64}), out,
        steps=steps, batch_size=8, progress=False, sample_every=100, checkpoint_every=100, device="cpu",
        precision="fp32",  # the same run on every machine, whatever --precision auto would pick
    )
    return Path(out)
