"""Deprecated: the producer SDK is `outcomes.sdk` (`from outcomes.sdk import Emitter`).

This alias is kept for one release so existing producers keep working; it warns once on
import. It resolves the front door's package at run time on purpose: the service
(`collector`) never depends on the front door, and this shim holds no code of its own.
"""

import importlib
import sys
import warnings

warnings.warn(
    "collector.sdk is deprecated: import outcomes.sdk instead (from outcomes.sdk import Emitter)",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = importlib.import_module("outcomes.sdk")
