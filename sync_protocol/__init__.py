"""The Outpost sync protocol: envelopes, mutation schemas, hybrid logical clock. No I/O."""

from .envelopes import MIN_SCHEMA_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION
from .hlc import Hlc, HybridClock

__all__ = ["MIN_SCHEMA_VERSION", "PROTOCOL_VERSION", "SCHEMA_VERSION", "Hlc", "HybridClock"]
