"""Deprecated: the producer SDK is `outcomes.sdk` (`from outcomes.sdk import Emitter`).

This alias is kept for one release so existing producers keep working; it warns on
import. It holds no code: it resolves the front door's package at run time, so the
service (`collector`) never depends on the front door.
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
