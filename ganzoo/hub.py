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
   b. online: the Hub, through ``hf_hub_download`` (files land in the HF cache, and a file that
      has not changed is not downloaded again); all files come from one commit;
   c. when the Hub cannot be reached (no network, a timeout, a 5xx): the HF cache;
   d. for the zoo's own models (``ganzoo/<name>``), when the Hub cannot be reached or does not
      have the repo and the cache does not either: the ``model_cards/<name>/`` copy.

Turning the folder into a model is ganzoo/loading.py's job; ``ganzoo.load`` (ganzoo/api.py) does both.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
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
from .errors import CheckpointError, ConfigError, GanzooError
from .export import export_run, verify_export
from .layout import CONFIG, EXPORT_FILES, discriminator_entry, is_export, is_run, needs_raw_model, weights_section
from .loading import has_encoder
from .safeio import read_json

ZOO_ORG = "ganzoo"
log = logging.getLogger("ganzoo.hub")


class HubError(GanzooError):
    """Something about the Hub or the HF cache stopped a load or a push."""


class ModelNotFoundError(HubError):
    """The model is not where the source says: not a folder, not in the zoo, not on the Hub."""


class HubUnreachableError(HubError):
    """The Hub could not be reached and no cached or shipped copy could stand in."""


class _Unreachable(Exception):
    """Internal: the Hub did not answer (reason in args[0])."""


# -- the zoo's shipped models ------------------------------------------------------------------------
def model_cards_dir() -> Path:
    """Where the zoo's shipped models live: ``$GANZOO_MODEL_CARDS`` or ``<repo>/model_cards``."""
    env = os.environ.get("GANZOO_MODEL_CARDS")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1] / "model_cards"


def zoo_models() -> list[str]:
    """Names of the models shipped in ``model_cards/``."""
    root = model_cards_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if is_export(p))


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


def _fetch(repo_id: str, revision: str | None, *, offline: bool, need_weights: bool, ema: bool, discriminator: bool,
           cache_dir: str | Path | None, endpoint: str | None, token: str | bool | None) -> Path:
    """Download (or find in the cache) config.json and the weights; returns their snapshot folder.

    Raises ``_Unreachable`` when the Hub does not answer, huggingface_hub's own errors otherwise.
    """
    common = dict(repo_type="model", cache_dir=cache_dir, endpoint=endpoint, token=token,
                  library_name="ganzoo", library_version=__version__)
    name = CONFIG
    try:
        if not offline:
            # One quick HEAD, without the client's retries, tells an unreachable Hub from the rest.
            url = hf_hub_url(repo_id, CONFIG, revision=revision, endpoint=endpoint)
            get_hf_file_metadata(url, token=token, endpoint=endpoint)
        config_path = Path(hf_hub_download(repo_id, CONFIG, revision=revision, local_files_only=offline, **common))
        folder = config_path.parent  # snapshots/<commit>/: the rest comes from the same commit
        config = read_json(config_path, f"config.json of {repo_id}")
        for name in _hub_files(config, folder, need_weights, ema, discriminator):
            hf_hub_download(repo_id, name, revision=folder.name, local_files_only=offline, **common)
        return folder
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise
    except RemoteEntryNotFoundError:
        shown = f"{repo_id}@{revision}" if revision else repo_id
        raise ModelNotFoundError(f"{shown} on the Hub has no {name}; it is not a ganzoo model, or it was not published completely") from None
    except LocalEntryNotFoundError as exc:
        if offline:
            raise
        raise _Unreachable(_reason(exc.__cause__ or exc)) from exc
    except (httpx2.TransportError, OfflineModeIsEnabled, FileMetadataError) as exc:
        raise _Unreachable(_reason(exc)) from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status >= 500 or status in (408, 429):
            raise _Unreachable(f"HTTP {status}") from exc
        raise


def _from_hub(repo_id: str, revision: str | None, *, need_weights: bool, ema: bool, discriminator: bool,
              cache_dir: str | Path | None, local_files_only: bool | None, endpoint: str | None,
              token: str | bool | None) -> tuple[Path, str]:
    _check_repo_id(repo_id)
    endpoint = endpoint or constants.ENDPOINT
    offline = constants.is_offline_mode() if local_files_only is None else bool(local_files_only)
    org, _, name = repo_id.partition("/")
    zoo = _zoo_copy(name) if org == ZOO_ORG else None
    shown = f"{repo_id}@{revision}" if revision else repo_id
    cache = cache_dir or constants.HF_HUB_CACHE
    args = dict(need_weights=need_weights, ema=ema, discriminator=discriminator, cache_dir=cache_dir, endpoint=endpoint, token=token)

    def cached() -> Path | None:
        try:
            return _fetch(repo_id, revision, offline=True, **args)
        except (LocalEntryNotFoundError, FileNotFoundError):
            return None

    if offline:
        folder = cached()
        if folder is not None:
            return folder, f"HF cache ({folder})"
        if zoo is not None and revision is None:
            return zoo, f"model_cards ({zoo})"
        why = "HF_HUB_OFFLINE=1" if local_files_only is None else "local_files_only=True"
        raise HubUnreachableError(f"{shown} is not in the HF cache ({cache}) and offline mode is on ({why}); connect and unset HF_HUB_OFFLINE, or pass a local folder")
    try:
        folder = _fetch(repo_id, revision, offline=False, **args)
        return folder, f"Hub ({endpoint}, commit {folder.name})"
    except _Unreachable as exc:
        folder = cached()
        if folder is not None:
            log.info("could not reach the Hub (%s); using the cached copy of %s", exc.args[0], shown)
            return folder, f"HF cache ({folder})"
        if zoo is not None and revision is None:
            log.info("could not reach the Hub (%s); using the shipped copy of %s", exc.args[0], shown)
            return zoo, f"model_cards ({zoo})"
        raise HubUnreachableError(
            f"could not reach the Hub at {endpoint} ({exc.args[0]}) and {shown} is not in the cache; "
            "connect or set HF_HUB_OFFLINE=1 with a seeded cache"
        ) from None
    except GatedRepoError:
        raise HubError(f"{repo_id} is gated on the Hub; accept its terms on the website and log in (`hf auth login`) or pass token=") from None
    except RepositoryNotFoundError:
        if zoo is not None and revision is None:
            return zoo, f"model_cards ({zoo})"
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
    if isinstance(source, os.PathLike) or _looks_like_path(text):
        raise ModelNotFoundError(f"folder {path} does not exist")
    repo_id, revision = _split_revision(text, revision)
    if "/" not in repo_id:
        zoo = _zoo_copy(repo_id)
        if zoo is not None and revision is None:
            return zoo, f"model_cards ({zoo})"
        repo_id = f"{ZOO_ORG}/{repo_id}"
    folder, where = _from_hub(repo_id, revision, need_weights=need_weights, ema=ema, discriminator=discriminator,
                              cache_dir=cache_dir, local_files_only=local_files_only, endpoint=endpoint, token=token)
    return folder, where


# -- publishing ------------------------------------------------------------------------------------------------
def _hub_call_error(exc: BaseException, repo_id: str, endpoint: str) -> GanzooError:
    """One line for whatever huggingface_hub raised while publishing."""
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachableError("offline mode is on (HF_HUB_OFFLINE=1); unset it to push (nothing was uploaded)")
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachableError(f"could not reach the Hub at {endpoint} ({_reason(exc)}); check the network (nothing was uploaded)")
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(f"the Hub has no repo {repo_id} you can write to; check the id, log in (`hf auth login`) or pass --token")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        if status in (401, 403):
            return HubError(f"the Hub refused to let you write to {repo_id} (HTTP {status}); log in with `hf auth login` or pass --token with write access")
        return HubError(f"the Hub refused the upload to {repo_id} (HTTP {status}: {_first_line(exc)})")
    return HubError(f"publishing {repo_id} failed: {_reason(exc)}")


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
) -> str:
    """Publish a training run (exported on the fly) or an export folder to ``repo_id``, in one commit.

    Creates the repo if needed (and the branch ``revision``), uploads config.json, the weights,
    README.md and the sample grid, and deletes published export files this export no longer has
    (e.g. an old discriminator). Returns the commit URL, which ends with the commit id.
    """
    _check_repo_id(repo_id)
    if "/" not in repo_id:
        raise ConfigError(f"{repo_id!r} has no organisation or user; use org/name")
    folder = Path(source)
    endpoint = endpoint or constants.ENDPOINT
    branch = revision or "main"
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        if is_export(folder):
            config = verify_export(folder)
            if include_discriminator and not isinstance(config["weights"].get("discriminator"), dict):
                raise CheckpointError(f"{folder} has no discriminator weights; export the run again with --include-discriminator")
            export_dir = folder
        elif is_run(folder):
            export_dir = export_run(folder, Path(tmp) / "export", include_discriminator=include_discriminator, model_id=repo_id)
            config = verify_export(export_dir)
        else:
            raise CheckpointError(f"{folder} is neither a training run (config.json + checkpoints/) nor an exported model folder")
        files = sorted(p for p in export_dir.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(export_dir).parts))
        names = {p.relative_to(export_dir).as_posix() for p in files}
        message = commit_message or (
            f"Upload {config['architecture']['name']} + {config['loss']['name']} on {config['dataset']['name']} "
            f"(step {config['weights'].get('step', '?')}, {config['weights'].get('which', '?')} weights) with ganzoo {__version__}"
        )
        api = HfApi(endpoint=endpoint, token=token, library_name="ganzoo", library_version=__version__)
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            if branch != "main":
                api.create_branch(repo_id, branch=branch, exist_ok=True, repo_type="model")
            present = set(api.list_repo_files(repo_id, revision=branch, repo_type="model"))
            operations: list[Any] = [CommitOperationAdd(path_in_repo=p.relative_to(export_dir).as_posix(), path_or_fileobj=str(p)) for p in files]
            operations += [CommitOperationDelete(path_in_repo=n) for n in EXPORT_FILES if n in present and n not in names]
            info = api.create_commit(repo_id, operations, commit_message=message, revision=branch, repo_type="model")
        except (httpx2.TransportError, OfflineModeIsEnabled, HfHubHTTPError) as exc:
            raise _hub_call_error(exc, repo_id, endpoint) from exc
        except ValueError as exc:  # e.g. the Hub rejected the card's metadata
            raise HubError(f"the Hub rejected the upload to {repo_id}: {_first_line(exc)}") from exc
    return str(info.commit_url)


__all__ = ["HubError", "HubUnreachableError", "ModelNotFoundError", "locate", "model_cards_dir", "push", "zoo_models"]
