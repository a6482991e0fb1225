"""Bulk intake: event files (JSONL / CSV) and cloud bills (FOCUS) become outcome events."""
