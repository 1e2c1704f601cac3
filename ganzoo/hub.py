"""Where a model is (``locate``: a local folder, a zoo name or a Hub repo id) and publishing (``push``).

``locate(source)`` returns a local folder, trying in order:

1. ``source`` is a local folder: an exported model (config.json with a ``weights`` section, as
   ``ganzoo export`` writes it) or a training run (it has ``checkpoints/``).
2. ``source`` is a zoo model name without an organisation, such as ``dcgan-fashion-mnist``: the copy
   shipped in the repository's ``model_cards/<name>/`` (``GANZOO_MODEL_CARDS`` names another
   folder). No network is touched. Where no copy is shipped (a wheel install), it means the Hub
   repo ``ganzoo/<name>``.
3. ``source`` is a Hub repo id, ``org/name`` or ``org/name@revision``:

   a. offline (``HF_HUB_OFFLINE=1``, or ``local_files_only=True``): the Hugging Face cache only;
   b. online: the Hub, through ``hf_hub_download``, one call (one HEAD, plus a GET when the cache
      lacks the file) per file: files land in the HF cache, a file that has not changed is not
      downloaded again, and all files come from config.json's commit;
   c. when the Hub cannot be reached (no network, a timeout, a 5xx): the HF cache, through
      ``hf_hub_download``'s own fallback (it retries with backoff first when the cache lacks a file);
   d. for the zoo's own models (``ganzoo/<name>``), when the Hub cannot be reached or does not
      have the repo and the cache does not either: the ``model_cards/<name>/`` copy, which is said
      on stderr.

A revision may hold slashes (``org/name@refs/pr/1``, ``org/name@feature/x``). Turning the folder
into a model is ganzoo/loading.py's job; ``ganzoo.load`` (ganzoo/api.py) does both.
"""
from __future__ import annotations

import difflib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, hf_hub_download
from huggingface_hub.errors import (
    FileMetadataError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import HFValidationError, validate_repo_id

from . import __version__
from .cards import render_card_from
from .errors import CheckpointError, ConfigError, GanzooError
from .export import export_run, verify_export
from .layout import CARD, CONFIG, EXPORT_FILES, SAMPLES, discriminator_entry, is_export, is_run, needs_raw_model, weights_section
from .loading import has_encoder
from .safeio import read_json, write_json
from .zoo import ZOO_ORG, model_cards_dir, zoo_models


class HubError(GanzooError):
    """Something about the Hub or the HF cache stopped a load or a push."""


class ModelNotFoundError(HubError):
    """The model is not where the source says: not a folder, not in the zoo, not on the Hub."""


class HubUnreachableError(HubError):
    """The Hub could not be reached and no cached or shipped copy could stand in."""


class _Unreachable(Exception):
    """Internal: the Hub did not answer (reason in args[0])."""


# -- the zoo's shipped models (listed by ganzoo/zoo.py) --------------------------------------------------
def _zoo_copy(name: str) -> Path | None:
    folder = model_cards_dir() / name
    return folder if is_export(folder) else None


# -- resolving a source to a folder --------------------------------------------------------------------
def _split_revision(source: str, revision: str | None) -> tuple[str, str | None]:
    repo_id, at, rev = source.partition("@")
    if at:
        if not rev:
            raise ConfigError(f"{source!r} ends with '@' but names no revision; use org/name@revision")
        if revision is not None and revision != rev:
            raise ConfigError(f"{source!r} names revision {rev!r} but revision={revision!r} was also given; pass one")
        revision = rev
    return repo_id, revision


def _looks_like_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or source.count("/") > 1 or source.endswith("/") or os.sep != "/" and os.sep in source


def _check_repo_id(repo_id: str) -> None:
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ConfigError(f"{repo_id!r} is not a valid Hub repo id ({str(exc).splitlines()[0]}); use org/name") from None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n\n")[0].split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _hub_files(config: dict[str, Any], folder: Path, need_weights: bool, ema: bool, discriminator: bool) -> list[str]:
    """The weights files a load needs besides config.json."""
    weights = weights_section(config, folder)
    if not need_weights:
        return []
    files = [weights["file"]]
    if needs_raw_model(weights, ema=ema, discriminator=discriminator, encoder=has_encoder(config)):
        files.append(discriminator_entry(weights, folder)["file"])
    return files


def _did_not_answer(exc: BaseException | None) -> bool:
    """Whether a failed Hub request means the Hub did not answer (network, timeout, 5xx, 408,
    429, a proxy that is not a Hub) rather than that it refused."""
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        return status >= 500 or status in (408, 429)
    return isinstance(exc, (httpx2.TransportError, OfflineModeIsEnabled, FileMetadataError))


def _fetch(repo_id: str, revision: str | None, *, offline: bool, need_weights: bool, ema: bool, discriminator: bool,
           cache_dir: str | Path | None, endpoint: str | None, token: str | bool | None) -> Path:
    """Download (or find in the cache) config.json and the weights; returns their snapshot folder.

    One ``hf_hub_download`` per file and nothing else: the Hub counts each HEAD/GET of config.json
    as a download. Raises ``_Unreachable`` when the Hub does not answer and the cache lacks a file,
    huggingface_hub's own errors otherwise.
    """
    common = dict(repo_type="model", cache_dir=cache_dir, endpoint=endpoint, token=token,
                  library_name="ganzoo", library_version=__version__)
    name = CONFIG
    try:
        config_path = Path(hf_hub_download(repo_id, CONFIG, revision=revision, local_files_only=offline, **common))
        folder = config_path.parent  # snapshots/<commit>/: the rest comes from the same commit
        config = read_json(config_path, f"config.json of {repo_id}")
        for name in _hub_files(config, folder, need_weights, ema, discriminator):
            # Pinned to the commit: a cached file is served without any request.
            hf_hub_download(repo_id, name, revision=folder.name, local_files_only=offline, **common)
        return folder
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise
    except RemoteEntryNotFoundError:
        shown = f"{repo_id}@{revision}" if revision else repo_id
        raise ModelNotFoundError(f"{shown} on the Hub has no {name}; it is not a ganzoo model, or it was not published completely") from None
    except LocalEntryNotFoundError as exc:
        # hf_hub_download raises this when its HEAD failed and the cache lacks the file; the cause
        # says whether the Hub did not answer or refused (e.g. HTTP 403).
        cause = exc.__cause__
        if offline:
            raise
        if cause is None or _did_not_answer(cause):
            raise _Unreachable(_reason(cause or exc)) from exc
        raise HubError(f"the Hub refused {repo_id} ({_reason(cause)}); check the id and your access (`hf auth login` or token=)") from None
    except (httpx2.TransportError, OfflineModeIsEnabled) as exc:
        raise _Unreachable(_reason(exc)) from exc
    except HfHubHTTPError as exc:
        if _did_not_answer(exc):
            raise _Unreachable(f"HTTP {exc.response.status_code}") from exc
        raise HubError(f"the Hub refused {repo_id} ({_reason(exc)}); check the id and your access (`hf auth login` or token=)") from None


def _shipped(zoo: Path, shown: str, why: str) -> tuple[Path, str]:
    """The zoo's shipped copy standing in for its Hub repo, said on stderr in one line (a library
    that silently swaps a model is hard to debug)."""
    print(f"ganzoo: {shown} {why}; using the copy shipped in {zoo}", file=sys.stderr)
    return zoo, f"model_cards ({zoo})"


def _from_hub(repo_id: str, revision: str | None, *, need_weights: bool, ema: bool, discriminator: bool,
              cache_dir: str | Path | None, local_files_only: bool | None, endpoint: str | None,
              token: str | bool | None) -> tuple[Path, str]:
    _check_repo_id(repo_id)
    endpoint = endpoint or constants.ENDPOINT
    offline = constants.is_offline_mode() if local_files_only is None else bool(local_files_only)
    org, _, name = repo_id.partition("/")
    zoo = _zoo_copy(name) if org == ZOO_ORG and revision is None else None
    shown = f"{repo_id}@{revision}" if revision else repo_id
    cache = cache_dir or constants.HF_HUB_CACHE
    args = dict(need_weights=need_weights, ema=ema, discriminator=discriminator, cache_dir=cache_dir, endpoint=endpoint, token=token)

    if offline:
        try:
            folder = _fetch(repo_id, revision, offline=True, **args)
            return folder, f"HF cache ({folder})"
        except (LocalEntryNotFoundError, FileNotFoundError):
            pass
        why = "HF_HUB_OFFLINE=1" if local_files_only is None else "local_files_only=True"
        if zoo is not None:
            return _shipped(zoo, shown, f"is not in the HF cache and offline mode is on ({why})")
        raise HubUnreachableError(f"{shown} is not in the HF cache ({cache}) and offline mode is on ({why}); connect and unset HF_HUB_OFFLINE, or pass a local folder")
    try:
        folder = _fetch(repo_id, revision, offline=False, **args)
        # hf_hub_download serves the cached copy by itself when the Hub does not answer.
        return folder, f"Hub ({endpoint}, commit {folder.name}; files in the HF cache)"
    except _Unreachable as exc:
        if zoo is not None:
            return _shipped(zoo, shown, f"could not be fetched from the Hub at {endpoint} ({exc.args[0]}) and is not in the HF cache")
        raise HubUnreachableError(
            f"could not reach the Hub at {endpoint} ({exc.args[0]}) and {shown} is not in the cache; "
            "connect or set HF_HUB_OFFLINE=1 with a seeded cache"
        ) from None
    except GatedRepoError:
        raise HubError(f"{repo_id} is gated on the Hub; accept its terms on the website and log in (`hf auth login`) or pass token=") from None
    except RepositoryNotFoundError:
        if zoo is not None:
            return _shipped(zoo, shown, f"is not on the Hub ({endpoint})")
        raise ModelNotFoundError(f"{repo_id} not found on the Hub ({endpoint}); check the id or pass a local folder (a private repo needs a token)") from None
    except RevisionNotFoundError:
        raise ModelNotFoundError(f"revision {revision!r} of {repo_id} not found on the Hub; check the revision or pass a local folder") from None


def locate(source: str | os.PathLike[str], *, revision: str | None = None, need_weights: bool = True,
           ema: bool = True, discriminator: bool = False, cache_dir: str | Path | None = None,
           local_files_only: bool | None = None, endpoint: str | None = None,
           token: str | bool | None = None) -> tuple[Path, str]:
    """(folder, where it was found) for a source; see the module docstring. Only the files a load
    with these ``ema``/``discriminator`` settings needs are downloaded."""
    text = os.fspath(source)
    path = Path(text).expanduser()
    if path.is_dir():
        if revision is not None:
            raise ConfigError(f"revision={revision!r} applies to Hub repo ids, not to the local folder {path}")
        if is_run(path):
            return path, f"training run ({path})"
        if (path / CONFIG).is_file():  # an export, or a damaged one: loading says which
            return path, f"local folder ({path})"
        raise CheckpointError(f"{path} is neither an exported model (config.json with a 'weights' section) nor a training run (checkpoints/); export the run with `ganzoo export`")
    # The revision may hold slashes (refs/pr/1, feature/x): only the part before '@' can look like a path.
    if isinstance(source, os.PathLike) or _looks_like_path(text.partition("@")[0]):
        raise ModelNotFoundError(f"folder {path} does not exist")
    repo_id, revision = _split_revision(text, revision)
    unknown_name = None  # a bare name the checkout does not ship: perhaps a newer zoo model, perhaps a typo
    if "/" not in repo_id:
        zoo = _zoo_copy(repo_id)
        if zoo is not None and revision is None:
            return zoo, f"model_cards ({zoo})"
        unknown_name = repo_id if zoo is None else None
        repo_id = f"{ZOO_ORG}/{repo_id}"
    try:
        return _from_hub(repo_id, revision, need_weights=need_weights, ema=ema, discriminator=discriminator,
                         cache_dir=cache_dir, local_files_only=local_files_only, endpoint=endpoint, token=token)
    except HubError as exc:
        if unknown_name is None:
            raise
        close = difflib.get_close_matches(unknown_name, zoo_models(), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise type(exc)(f"no zoo model named {unknown_name!r} ships with ganzoo ({hint}`ganzoo zoo` lists them), and "
                        f"looking for {repo_id} on the Hub failed: {exc}") from None


# -- publishing ------------------------------------------------------------------------------------------------
def _hub_call_error(exc: BaseException, repo_id: str, endpoint: str) -> GanzooError:
    """One line for whatever huggingface_hub raised while publishing."""
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachableError("offline mode is on (HF_HUB_OFFLINE=1); unset it to push (nothing was uploaded)")
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachableError(f"could not reach the Hub at {endpoint} ({_reason(exc)}); check the network (nothing was uploaded)")
    if isinstance(exc, RevisionNotFoundError):
        return HubError(f"{repo_id} has no such branch on the Hub; a pull request starts from an existing branch (nothing was uploaded)")
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(f"the Hub has no repo {repo_id} you can write to; check the id, log in (`hf auth login`) or pass --token")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        if status in (401, 403):
            return HubError(f"the Hub refused to let you write to {repo_id} (HTTP {status}); log in with `hf auth login`, "
                            "pass --token with write access, or open a pull request with --create-pr")
        return HubError(f"the Hub refused the upload to {repo_id} (HTTP {status}: {_first_line(exc)})")
    return HubError(f"publishing {repo_id} failed: {_reason(exc)}")


def _export_to_push(folder: Path, repo_id: str, include_discriminator: bool, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The export folder to publish (a run is exported into ``tmp``) and its checked config."""
    if is_export(folder):
        config = verify_export(folder)
        if include_discriminator and not isinstance(config["weights"].get("discriminator"), dict):
            raise CheckpointError(f"{folder} has no discriminator weights; export the run again with --include-discriminator")
        return folder, config
    if is_run(folder):
        export_dir = export_run(folder, tmp / "export", include_discriminator=include_discriminator, model_id=repo_id)
        return export_dir, verify_export(export_dir)
    raise CheckpointError(f"{folder} is neither a training run (config.json + checkpoints/) nor an exported model folder")


def _published_files(export_dir: Path) -> dict[str, Path]:
    """path in the repo -> local file, for every file of the export (hidden ones excepted)."""
    files = (p for p in export_dir.rglob("*") if p.is_file())
    return {p.relative_to(export_dir).as_posix(): p for p in sorted(files)
            if not any(part.startswith(".") for part in p.relative_to(export_dir).parts)}


def _retarget(export_dir: Path, config: dict[str, Any], repo_id: str, license: str | None, tmp: Path) -> dict[str, Path]:
    """config.json and README.md rewritten for ``repo_id`` (and ``license``), when the export was made
    for another model id or licence: the card's title and snippet must load the repo it is published
    in. The export folder itself is left as it is; an export made for this repo is published unchanged."""
    weights = config["weights"]
    if weights.get("model_id") == repo_id and license in (None, weights.get("license")):
        return {}
    config = {**config, "weights": {**weights, "model_id": repo_id, **({"license": license} if license else {})}}
    tmp.mkdir(parents=True, exist_ok=True)
    write_json(tmp / CONFIG, config)
    card = render_card_from(config, repo_id, has_samples=(export_dir / SAMPLES).is_file())
    (tmp / CARD).write_text(card, encoding="utf-8")
    return {CONFIG: tmp / CONFIG, CARD: tmp / CARD}


def _commit_message(config: dict[str, Any]) -> str:
    weights = config["weights"]
    return (f"Upload {config['architecture']['name']} + {config['loss']['name']} on {config['dataset']['name']} "
            f"(step {weights.get('step', '?')}, {weights.get('which', '?')} weights) with ganzoo {__version__}")


def push(
    source: str | os.PathLike[str],
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | bool | None = None,
    include_discriminator: bool = False,
    commit_message: str | None = None,
    endpoint: str | None = None,
    license: str | None = None,
    create_pr: bool = False,
) -> str:
    """Publish a training run (exported on the fly) or an export folder to ``repo_id``, in one commit.

    Creates the repo if needed (and the branch ``revision``), uploads config.json, the weights,
    README.md and the sample grid, and deletes published export files this export no longer has
    (e.g. an old discriminator). The card is rendered for ``repo_id`` (and ``license``, which
    defaults to the export's, else the dataset plugin's). Returns the commit URL, which ends with the
    commit id. ``create_pr=True`` opens a pull request against ``revision`` (default main) of an
    existing repo instead, which needs no write access, and returns the pull request's URL.
    """
    _check_repo_id(repo_id)
    if "/" not in repo_id:
        raise ConfigError(f"{repo_id!r} has no organisation or user; use org/name")
    endpoint = endpoint or constants.ENDPOINT
    branch = revision or "main"
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        export_dir, config = _export_to_push(Path(source), repo_id, include_discriminator, Path(tmp))
        files = {**_published_files(export_dir), **_retarget(export_dir, config, repo_id, license, Path(tmp) / "retargeted")}
        api = HfApi(endpoint=endpoint, token=token, library_name="ganzoo", library_version=__version__)
        try:
            if not create_pr:  # a pull request goes to an existing repo and branch, maybe one you cannot write to
                api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
                if branch != "main":
                    api.create_branch(repo_id, branch=branch, exist_ok=True, repo_type="model")
            present = set(api.list_repo_files(repo_id, revision=branch, repo_type="model"))
            operations: list[Any] = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)) for name, path in files.items()]
            # An export file (figures/ included) published before that this export no longer has goes.
            operations += [CommitOperationDelete(path_in_repo=n) for n in sorted(present) if n.split("/")[0] in EXPORT_FILES and n not in files]
            info = api.create_commit(repo_id, operations, commit_message=commit_message or _commit_message(config),
                                     revision=branch, repo_type="model", create_pr=create_pr)
        except (httpx2.TransportError, OfflineModeIsEnabled, HfHubHTTPError) as exc:
            raise _hub_call_error(exc, repo_id, endpoint) from exc
        except ValueError as exc:  # e.g. the Hub rejected the card's metadata
            raise HubError(f"the Hub rejected the upload to {repo_id}: {_first_line(exc)}") from exc
    return str(info.pr_url if create_pr and info.pr_url else info.commit_url)


__all__ = ["HubError", "HubUnreachableError", "ModelNotFoundError", "locate", "model_cards_dir", "push", "zoo_models"]
