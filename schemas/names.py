"""The one rule every project, automation and service name follows (binding): lowercase
letters, digits, `.`, `_` and `-`, 1 to 63 characters, starting with a letter or digit.

A module of its own, without pydantic: readers that only check names (the bill importer
judging a million rows) need not load the event models."""

from __future__ import annotations

from typing import Final

NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,62}$"
