"""The job runner: serves the web app's jobs from Postgres (claim, heartbeat, progress, cancel, resume)."""
