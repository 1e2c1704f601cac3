"""Plugin registries, discovered through Python entry points.

The zoo's own variants are declared in ganzoo's pyproject.toml under the same entry-point groups a
third-party package uses, so there is one code path for both. Discovery is lazy and cheap: listing
reads entry-point metadata and each plugin's docstring from its source with ``ast``; no plugin
module (and so no torch) is imported until a plugin is used. A checkout that was never
pip-installed has no entry-point metadata; the built-ins are then read from its pyproject.toml.
"""
from __future__ import annotations

import ast
import difflib
import fnmatch
import importlib
import importlib.metadata as metadata
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Iterator, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

from . import __version__
from .errors import DuplicatePluginError, PluginLoadError, UnknownPluginError

T = TypeVar("T")
LOCAL = "<local>"


@dataclass
class PluginEntry:
    """One registered name: where it comes from and, once known, whether it loads."""

    kind: str
    name: str
    target: str  # "module:attr" for entry points, "module.qualname" for local registrations
    distribution: str
    version: str
    obj: Any = None
    error: str | None = None
    _summary: str | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        """``package==version[entry]``, the way a user would name what to install or fix."""
        if self.distribution == LOCAL:
            return f"{LOCAL} {self.target}"
        return f"{self.distribution}=={self.version}[{self.name}]"

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._summary = _summary_of(self)
        return self._summary


def _first_line(doc: str | None) -> str:
    if not doc:
        return ""
    paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def _summary_of(entry: PluginEntry) -> str:
    """First paragraph of the plugin's docstring, read from source without importing the module."""
    if entry.obj is not None:
        return _first_line(getattr(entry.obj, "__doc__", None))
    module, _, attr = entry.target.partition(":")
    try:
        spec = importlib.util.find_spec(module)
    except Exception as exc:  # a parent package that fails to import
        entry.error = entry.error or f"{type(exc).__name__}: {exc}"
        return ""
    if spec is None:
        entry.error = entry.error or f"ModuleNotFoundError: no module named {module!r}"
        return ""
    if not spec.origin or not spec.origin.endswith(".py"):
        return ""
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=spec.origin)
    except SyntaxError as exc:
        entry.error = entry.error or f"SyntaxError: {exc.msg} ({spec.origin}, line {exc.lineno})"
        return ""
    except OSError:
        return ""
    missing = _missing_imports(tree, module)
    if missing:
        entry.error = entry.error or f"ModuleNotFoundError: {module} imports {missing!r}, which is not installed"
    head = attr.split(".")[0]
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == head:
            return _first_line(ast.get_docstring(node))
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.ImportFrom, ast.Import)):
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            else:
                targets = [(a.asname or a.name).split(".")[0] for a in node.names]
            if head in targets:
                return ""  # defined indirectly; the summary is known once loaded
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            return ""
    entry.error = entry.error or f"AttributeError: module {module!r} defines no {head!r}"
    return ""


def _missing_imports(tree: ast.Module, module: str) -> str | None:
    """The first top-level absolute import whose top-level package cannot be found.

    ``find_spec`` on a top-level name only searches sys.path, so this spots the most common plugin
    failure (a dependency that is not installed) without executing any plugin code.
    """
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == module.split(".")[0]:
                continue
            try:
                if importlib.util.find_spec(top) is None:
                    return name
            except (ImportError, ValueError):
                return name
    return None


OWN_DISTRIBUTION = "ganzoo"
CHECKOUT_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def checkout_entry_points(group: str, pyproject: Path | None = None) -> dict[str, str]:
    """name -> "module:attr" for ``group``, as the checkout's pyproject.toml declares the built-ins.

    Used when ganzoo runs from a checkout that was never pip-installed (``torch.hub.load`` of a
    clone, ``PYTHONPATH=.``): there is no distribution metadata then, so no entry points, but the
    declarations are the same ones an install would register.
    """
    pyproject = pyproject or CHECKOUT_PYPROJECT
    if not pyproject.is_file():
        return {}
    try:
        with pyproject.open("rb") as fh:
            project = tomllib.load(fh).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    if project.get("name") != OWN_DISTRIBUTION:
        return {}
    section = project.get("entry-points", {}).get(group, {})
    return {str(k): str(v) for k, v in section.items()} if isinstance(section, dict) else {}


class Registry(Generic[T]):
    """Names of one plugin kind (architecture, loss, dataset, trick) and the objects behind them."""

    def __init__(self, kind: str, plural: str, group: str, base: Callable[[], type] | None = None) -> None:
        self.kind = kind
        self.plural = plural
        self.group = group
        self._base = base  # resolved lazily: the base classes live in torch-importing modules
        self._discovered: dict[str, list[PluginEntry]] | None = None
        self._local: dict[str, PluginEntry] = {}

    # -- discovery ---------------------------------------------------------------------------
    def _entry_points(self) -> dict[str, list[PluginEntry]]:
        if self._discovered is None:
            found: dict[str, list[PluginEntry]] = {}
            for ep in metadata.entry_points(group=self.group):
                dist = getattr(ep, "dist", None)
                dist_name = dist.metadata["Name"] if dist is not None else "unknown"
                version = dist.version if dist is not None else "?"
                entries = found.setdefault(ep.name, [])
                # The same distribution can be visible twice (e.g. two sys.path entries); that is
                # not a clash.
                if any(e.distribution == dist_name for e in entries):
                    continue
                entries.append(PluginEntry(self.kind, ep.name, ep.value, dist_name, version))
            if not _installed(OWN_DISTRIBUTION):  # a checkout that was never pip-installed
                for name, target in checkout_entry_points(self.group).items():
                    found.setdefault(name, []).append(PluginEntry(self.kind, name, target, OWN_DISTRIBUTION, __version__))
            self._discovered = found
        return self._discovered

    def refresh(self) -> None:
        """Forget discovered entry points (after installing a plugin in the same process)."""
        self._discovered = None

    def entries(self, pattern: str | None = None) -> list[PluginEntry]:
        """Every registered entry, sorted by name; a clashing name contributes all its claimants."""
        out: list[PluginEntry] = []
        for name in self.names(pattern):
            out.extend(self._claimants(name))
        return out

    def names(self, pattern: str | None = None) -> list[str]:
        names = set(self._entry_points()) | set(self._local)
        if pattern:
            names = {n for n in names if fnmatch.fnmatchcase(n, pattern)}
        return sorted(names)

    def __contains__(self, name: str) -> bool:
        return name in self._local or name in self._entry_points()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _claimants(self, name: str) -> list[PluginEntry]:
        claimants = list(self._entry_points().get(name, []))
        if name in self._local:
            claimants.append(self._local[name])
        return claimants

    # -- lookup ------------------------------------------------------------------------------
    def entry(self, name: str) -> PluginEntry:
        """The single entry for ``name``; raises with close matches or with both claimants."""
        claimants = self._claimants(name)
        if not claimants:
            close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownPluginError(
                f"unknown {self.kind} {name!r}; {hint or 'known: ' + ', '.join(self.names())}"
                f" (see `ganzoo list {self.plural}`)"
            )
        if len(claimants) > 1:
            who = " and ".join(c.origin for c in claimants)
            raise DuplicatePluginError(
                f"{self.kind} {name!r} is provided by both {who}; uninstall one of them"
            )
        return claimants[0]

    def get(self, name: str) -> T:
        """Import (once) and return the plugin object registered as ``name``."""
        entry = self.entry(name)
        if entry.obj is not None:
            return entry.obj
        if entry.error is not None and entry.distribution != LOCAL:
            # A previous attempt failed; report the same cause rather than retrying silently.
            raise PluginLoadError(self._load_failure(entry, entry.error))
        module_name, _, attr = entry.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:  # any failure inside a plugin must not take the zoo down
            entry.error = f"{type(exc).__name__}: {exc}"
            raise PluginLoadError(self._load_failure(entry, entry.error)) from exc
        self._check_type(entry, obj)
        entry.obj = obj
        return obj

    def _load_failure(self, entry: PluginEntry, cause: str) -> str:
        return (
            f"{self.kind} plugin {entry.origin} failed to load: {cause}; "
            f"reinstall or fix {entry.distribution}"
        )

    def _check_type(self, entry: PluginEntry, obj: Any) -> None:
        if self._base is None:
            return
        base = self._base()
        if not (isinstance(obj, type) and issubclass(obj, base)):
            entry.error = f"TypeError: {entry.target} is not a subclass of {base.__module__}.{base.__qualname__}"
            raise PluginLoadError(self._load_failure(entry, entry.error))

    def check(self, name: str) -> PluginEntry:
        """Import a plugin to find out whether it loads; never raises for a load failure."""
        entry = self.entry(name)
        try:
            self.get(name)
        except PluginLoadError:
            pass
        return entry

    # -- local registration ------------------------------------------------------------------
    def register(self, obj: Any = None, *, name: str | None = None, override: bool = False) -> Any:
        """Register an object defined in a script or notebook; usable as ``@registry.register``.

        A name that an installed distribution already provides is refused unless ``override``.
        """

        def add(target: Any) -> Any:
            key = name or getattr(target, "name", None) or target.__name__.lower()
            if not override:
                clash = self._claimants(key)
                if clash:
                    raise DuplicatePluginError(
                        f"{self.kind} {key!r} is already provided by {clash[0].origin}; "
                        "choose another name or pass override=True"
                    )
            entry = PluginEntry(
                self.kind, key, f"{target.__module__}.{target.__qualname__}", LOCAL, "", obj=target
            )
            self._check_type(entry, target)
            if override:
                # An override replaces the installed claimant for this process only.
                self._entry_points().pop(key, None)
            self._local[key] = entry
            return target

        if obj is None:
            return add
        return add(obj)

    def unregister(self, name: str) -> None:
        self._local.pop(name, None)


def _base(module: str, attr: str) -> Callable[[], type]:
    return lambda: getattr(importlib.import_module(module), attr)


architectures: Registry = Registry("architecture", "architectures", "ganzoo.architectures", _base("ganzoo.contracts", "GANModel"))
losses: Registry = Registry("loss", "losses", "ganzoo.losses", _base("ganzoo.contracts", "Loss"))
datasets: Registry = Registry("dataset", "datasets", "ganzoo.datasets", _base("ganzoo.contracts", "DatasetPlugin"))
tricks: Registry = Registry("trick", "tricks", "ganzoo.tricks", _base("ganzoo.contracts", "Trick"))

REGISTRIES: dict[str, Registry] = {
    "architectures": architectures,
    "losses": losses,
    "datasets": datasets,
    "tricks": tricks,
}
