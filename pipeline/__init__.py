"""The worker runtime behind `manage.py runworkers`: the supervisor and its process pool,
capture, frames for AI, reports, restarts, the hosts sharing a database (cluster), and the live
relay to browsers (live)."""
