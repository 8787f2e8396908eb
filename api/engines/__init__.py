"""The engines as the service runs them: one engine thread per process (service), a process pool for batches
(pool)."""
