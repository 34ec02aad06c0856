"""The version of needsmodel: the one place it is written (pyproject.toml reads it from here).

A module of its own so every module may import it; reading it from the installed
package's metadata instead would load ``importlib.metadata`` on every import.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
