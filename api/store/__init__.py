"""Storage: every SQL statement of the service lives in this package (database, migrations, checks, reviews,
audit chain, keys, web sessions, receipts and rule-file snapshots)."""
