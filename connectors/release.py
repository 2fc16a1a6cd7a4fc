"""Which release of the package this is, as installed."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """Return the installed version of `pit-catalog` (`0+unknown` from a bare checkout)."""
    try:
        return version("pit-catalog")
    except PackageNotFoundError:
        return "0+unknown"


__all__ = ["package_version"]
