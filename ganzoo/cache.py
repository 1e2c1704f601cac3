"""Where ganzoo keeps what it can recompute (reference features, downloaded datasets).

``$GANZOO_CACHE``, else ``$XDG_CACHE_HOME/ganzoo``, else ``~/.cache/ganzoo``: the XDG base
directory rule that huggingface_hub and torch.hub follow too (a relative ``XDG_CACHE_HOME`` is
ignored, as the spec says).
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "GANZOO_CACHE"


def cache_root() -> Path:
    """ganzoo's cache folder (see the module docstring); not created here."""
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "ganzoo"
    return Path.home() / ".cache" / "ganzoo"
