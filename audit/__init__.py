"""The audit log of security-relevant actions. `audit.record(...)` is the one way to write to it."""

from .events import record

__all__ = ["record"]
