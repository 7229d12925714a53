"""Compatibility features: one extractor per concern, values in [0, 1] on candidate pairs."""
from __future__ import annotations

from .base import Context, Feature, Prepared

FEATURES: dict[str, type] = {}


def register_feature(cls: type) -> type:
    """Register an extractor class under its ``name`` (usable as a decorator)."""
    FEATURES[cls.name] = cls
    return cls


def _load_builtin() -> None:
    for module in ("geography", "experience", "personality", "competency", "preference", "readiness"):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:  # not written yet
            if exc.name != f"{__name__}.{module}":
                raise


_load_builtin()

__all__ = ["Context", "Feature", "Prepared", "FEATURES", "register_feature"]
