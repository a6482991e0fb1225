"""The state stores' tables (SQLite and PostgreSQL) and the schema version they carry:
a collector refuses a store of a newer version than it knows (collector.state.sql)."""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 8
"""1 -> 2: seen digests stored per batch (`seen_batches`) instead of one row each.
2 -> 3: availability windows kept one by one (`windows`), incidents (`incidents`); seen
digests keyed by project
(the digests already stored, of (source, id) only, keep marking duplicates until they
expire: `legacy_seen_until_s` in `meta`).
3 -> 4: money in billionths (`cost_n`, …); rows of millionths (`cost_u`, …) are read as
the same amounts and rewritten when next changed. Nothing is rewritten here: the version
keeps an older collector from reading amounts it would misread.
4 -> 5: runs remembered for their reviews (`run_batches`) and verdicts (`reviews`); new
tables only (an older collector would drop verdicts).
5 -> 6: the latest version of each cloud bill statement per project (`statements`); a new
table only (an older collector would count a restated bill twice).
6 -> 7: the history of each project's declaration (`revisions`); a new table only (an
older collector would leave gaps in a history that must never be rewritten).
7 -> 8: counters keyed by tuples or by days are stored as columns (`{"keys": [...], "n":
[...]}`), runs remembered for their reviews flat (six items a run); rows written before
(flat rows, `[[key…], n]` pairs, `{"day": µs}`, a row a run) are read the same. Nothing is
rewritten here: the version keeps an older collector from misreading the new rows."""

TABLES: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projects ("
    " project TEXT PRIMARY KEY, partition INTEGER NOT NULL, counters TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS projects_partition ON projects (partition)",
    "CREATE TABLE IF NOT EXISTS periods ("
    " project TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,"
    " start_s {real} NOT NULL, end_s {real} NOT NULL, totals TEXT NOT NULL,"
    " PRIMARY KEY (project, key))",
    # the digests of one batch that share a partition and a forget-after time, as one
    # blob of DIGEST_SIZE-byte digests: one row per batch instead of one per event
    "CREATE TABLE IF NOT EXISTS seen_batches ("
    " partition INTEGER NOT NULL, forget_after_s {real} NOT NULL, digests {blob} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS seen_batches_partition ON seen_batches (partition)",
    "CREATE INDEX IF NOT EXISTS seen_batches_forget ON seen_batches (forget_after_s)",
    "CREATE TABLE IF NOT EXISTS offsets ("
    " topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
    " PRIMARY KEY (topic, partition))",
    "CREATE TABLE IF NOT EXISTS health ( partition INTEGER PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS windows ("
    " project TEXT NOT NULL, label TEXT NOT NULL, service TEXT NOT NULL,"
    " start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, downtime_us BIGINT NOT NULL,"
    " forget_after_s {real} NOT NULL, PRIMARY KEY (project, service, start_us, end_us))",
    "CREATE INDEX IF NOT EXISTS windows_forget ON windows (forget_after_s)",
    "CREATE TABLE IF NOT EXISTS incidents ("
    " project TEXT NOT NULL, service TEXT NOT NULL, incident TEXT NOT NULL,"
    " data TEXT NOT NULL, forget_after_s {real} NOT NULL,"
    " PRIMARY KEY (project, service, incident))",
    "CREATE TABLE IF NOT EXISTS run_batches ("
    " partition INTEGER NOT NULL, forget_after_s {real} NOT NULL, runs TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS run_batches_partition ON run_batches (partition)",
    "CREATE INDEX IF NOT EXISTS run_batches_forget ON run_batches (forget_after_s)",
    "CREATE TABLE IF NOT EXISTS reviews ("
    " project TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL,"
    " forget_after_s {real} NOT NULL, PRIMARY KEY (project, subject))",
    "CREATE TABLE IF NOT EXISTS statements ("
    " project TEXT NOT NULL, statement TEXT NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY (project, statement))",
    "CREATE TABLE IF NOT EXISTS declared ( project TEXT PRIMARY KEY, since_s {real} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS revisions ("
    " project TEXT NOT NULL, revision INTEGER NOT NULL, digest TEXT NOT NULL,"
    " effective_s {real} NOT NULL, document TEXT NOT NULL, changes TEXT NOT NULL,"
    " PRIMARY KEY (project, revision))",
    "CREATE TABLE IF NOT EXISTS owners ("
    " topic TEXT NOT NULL, partition INTEGER NOT NULL, owner TEXT NOT NULL,"
    " generation BIGINT NOT NULL, PRIMARY KEY (topic, partition))",
)
