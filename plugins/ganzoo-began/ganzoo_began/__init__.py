"""ganzoo-began: BEGAN for ganzoo, registered only through entry points (see pyproject.toml).

This package stays import-light on purpose: ganzoo lists plugins by reading the entry points and
the class docstrings from source, and only imports ``architecture``/``loss`` (and so torch) when a
BEGAN model is actually built.
"""

__version__ = "0.1.0"
