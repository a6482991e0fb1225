"""Exporters publish snapshots; they import `schemas` only, never the collector core."""
