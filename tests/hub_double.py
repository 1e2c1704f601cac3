"""A loopback stand-in for the Hugging Face Hub, for tests that drive the real huggingface_hub client.

The Hub cannot be reached from the machines these tests run on, so ``HubDouble`` serves the few
routes ganzoo's publishing and loading use, on 127.0.0.1 at a free port, from repositories kept in
memory:

    POST /api/repos/create                          create a repo (409 if it exists)
    POST /api/validate-yaml                         check a README's YAML header as the Hub does
                                                    (licence, pipeline tag, model-index: see card_metadata_errors)
    POST /api/models/{id}/preupload/{rev}           every file is "regular": it travels in the commit
    POST /api/models/{id}/commit/{rev}              NDJSON: header / file (base64) / deletedFile lines;
                                                    ?create_pr=1 commits to a new refs/pr/N instead
    POST /api/models/{id}/branch/{branch}           create a branch (409 if it exists)
    GET  /api/models/{id}[/revision/{rev}]          model info with siblings and sha
    GET  /api/models/{id}/tree/{rev}[/{path}]       files and folders
    HEAD/GET /{id}/resolve/{rev}/{path}             X-Repo-Commit, ETag, Content-Length

Errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) as the Hub does, so
the client raises its usual exceptions. A repo's ``writers`` (Authorization headers), when set,
are the only ones that may commit or branch; anyone may open a pull request. The server stops
by itself after ``lifetime`` seconds, and each connection times out, so a test that forgets to
stop it cannot hang the suite.

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
import yaml

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
    writers: set[str] | None = None  # Authorization headers that may commit; None: anyone
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


# -- what the Hub checks in a model card's metadata ----------------------------------------------------
# The subset of the Hub's rules ganzoo's cards rely on: a known licence id ("other" with a name), a
# known pipeline tag, lists of strings for tags and datasets, and model-index entries with a task
# type, a dataset type and name, and metrics that each have a type and a value.
# https://huggingface.co/docs/hub/repositories-licenses and huggingface.js packages/tasks/src/pipelines.ts
HUB_LICENSES = frozenset("""
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5
cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0
cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl
lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl apple-ascl mpl-2.0 odc-by odbl
openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license
llama2 llama3 llama3.1 llama3.2 llama3.3 gemma unknown other
""".split())
PIPELINE_TAGS = frozenset("""
biology text-classification token-classification table-question-answering question-answering zero-shot-classification
translation summarization feature-extraction text-generation text2text-generation fill-mask sentence-similarity
text-to-speech text-to-audio automatic-speech-recognition audio-to-audio audio-classification audio-text-to-text
voice-activity-detection depth-estimation image-classification object-detection image-segmentation text-to-image
image-to-text image-to-image image-to-video unconditional-image-generation video-classification reinforcement-learning
robotics tabular-classification tabular-regression tabular-to-text table-to-text multiple-choice text-ranking
text-retrieval time-series-forecasting text-to-video image-text-to-text visual-question-answering
document-question-answering zero-shot-image-classification graph-ml mask-generation zero-shot-object-detection
text-to-3d image-to-3d image-feature-extraction video-text-to-text keypoint-detection visual-document-retrieval
any-to-any other
""".split())


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _model_index_errors(index: Any) -> list[str]:
    if not isinstance(index, list):
        return ["model-index must be a list"]
    errors = []
    for i, model in enumerate(index):
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            errors.append(f"model-index[{i}].name must be a string")
            continue
        for j, result in enumerate(model.get("results") or []):
            where = f"model-index[{i}].results[{j}]"
            task, dataset, metrics = (result.get(k) if isinstance(result, dict) else None for k in ("task", "dataset", "metrics"))
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                errors.append(f"{where}.task.type is required")
            if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), str) for k in ("type", "name")):
                errors.append(f"{where}.dataset needs a type and a name")
            if not isinstance(metrics, list) or not metrics:
                errors.append(f"{where}.metrics must be a non-empty list")
                continue
            for k, metric in enumerate(metrics):
                ok = isinstance(metric, dict) and isinstance(metric.get("type"), str) and isinstance(metric.get("value"), (int, float, str))
                if not ok or isinstance(metric.get("value"), bool):
                    errors.append(f"{where}.metrics[{k}] needs a type and a number or string value")
                elif not isinstance(metric.get("args", {}), (dict, str, list)):
                    errors.append(f"{where}.metrics[{k}].args must be a mapping")
    return errors


def card_metadata_errors(meta: Any) -> list[str]:
    """What the Hub would reject in a README's YAML header (as far as ganzoo's cards go)."""
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return ["the metadata must be a mapping"]
    errors = []
    license = meta.get("license")
    if license is not None and license not in HUB_LICENSES:
        errors.append(f'"license" must be one of the Hub\'s licence ids, got {license!r}')
    if license == "other" and not isinstance(meta.get("license_name"), str):
        errors.append('"license: other" needs a "license_name"')
    tag = meta.get("pipeline_tag")
    if tag is not None and tag not in PIPELINE_TAGS:
        errors.append(f'"pipeline_tag" must be a Hub task, got {tag!r}')
    for key in ("tags", "datasets"):
        if key in meta and not _strings(meta[key]):
            errors.append(f'"{key}" must be a list of strings')
    if "library_name" in meta and not isinstance(meta["library_name"], str):
        errors.append('"library_name" must be a string')
    if "model-index" in meta:
        errors.extend(_model_index_errors(meta["model-index"]))
    return errors


def card_metadata(content: str) -> Any:
    """The YAML header of a README, or None without one; raises _HubError when it does not parse."""
    if not content.startswith("---"):
        return None
    parts = content.split("---", 2)
    if len(parts) < 3:
        raise _HubError(400, None, "Invalid YAML: the header is not closed", errors=[{"message": "the YAML header is not closed"}])
    try:
        return yaml.safe_load(parts[1])
    except yaml.YAMLError as exc:
        raise _HubError(400, None, f"Invalid YAML: {exc}", errors=[{"message": f"Invalid YAML: {exc}"}]) from None


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
        errors = card_metadata_errors(card_metadata(str(body.get("content", ""))))
        if errors:
            raise _HubError(400, None, "; ".join(errors), errors=[{"message": e} for e in errors])
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

    def _check_writer(self, repo: Repo, auth: str | None) -> None:
        if repo.writers is not None and auth not in repo.writers:
            raise _HubError(403, None, f"You don't have write access to {repo.repo_id}; open a pull request instead")

    def open_pr(self, repo: Repo, base: str) -> tuple[str, int]:
        """A new refs/pr/N branch from ``base``'s head: (its name, N)."""
        start = self._commit_of(repo, base)
        number = 1 + sum(1 for b in repo.branches if b.startswith("refs/pr/"))
        repo.branches[f"refs/pr/{number}"] = start.oid
        return f"refs/pr/{number}", number

    def commit(self, repo: Repo, revision: str, raw: bytes, *, create_pr: bool = False, auth: str | None = None) -> dict[str, Any]:
        if revision not in repo.branches:
            raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        number = None
        if create_pr:  # anyone who can see the repo may open a pull request
            revision, number = self.open_pr(repo, revision)
        else:
            self._check_writer(repo, auth)
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
        out = {"success": True, "commitOid": commit.oid, "commitUrl": f"{self.url}/{repo.repo_id}/commit/{commit.oid}"}
        if number is not None:
            out["pullRequestUrl"] = f"{self.url}/{repo.repo_id}/discussions/{number}"
        return out

    def create_branch(self, repo: Repo, branch: str, body: dict[str, Any], auth: str | None = None) -> dict[str, Any]:
        self._check_writer(repo, auth)
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
                    return hub.commit(repo, rest[1], self._body(), create_pr=query.get("create_pr") == "1", auth=self.headers.get("Authorization"))
                if method == "POST" and len(rest) == 2 and rest[0] == "branch":
                    return hub.create_branch(repo, rest[1], self._json_body(), self.headers.get("Authorization"))
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
class _SessionAt:
    """The HTTP session of ``huggingface_hub.repocard``, with requests to the default endpoint sent
    to ``endpoint``: huggingface_hub 2.0's ``ModelCard.validate`` posts to https://huggingface.co
    whatever HF_ENDPOINT says (later releases use the configured endpoint, and pass through here)."""

    def __init__(self, session: Any, endpoint: str, default: str) -> None:
        self.session, self.endpoint, self.default = session, endpoint, default

    def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(self.default + "/"):
            url = self.endpoint + url[len(self.default):]
        return self.session.post(url, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def _point_client_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, cache: Path, offline: bool) -> None:
    """huggingface_hub reads its environment at import time, so tests patch its constants."""
    from huggingface_hub import constants, repocard

    real_session = repocard.get_session
    monkeypatch.setattr(repocard, "get_session", lambda: _SessionAt(real_session(), endpoint, constants._HF_DEFAULT_ENDPOINT))
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


class _RecordedSleep:
    """``time`` for huggingface_hub's HTTP module, with ``sleep`` recorded instead of slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def backoff_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """huggingface_hub retries a HEAD that found no Hub, with backoff (1+2+4+8+8 s), when the cache
    lacks the file; the waits are recorded here instead of slept, so the suite stays fast."""
    from huggingface_hub.utils import _http

    recorder = _RecordedSleep()
    monkeypatch.setattr(_http, "time", recorder)
    return recorder.waits


@pytest.fixture
def unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backoff_waits: list[float]) -> str:
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
