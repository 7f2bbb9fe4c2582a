"""Offline analysis: detection over a camera's recorded footage between two moments.

footage (sampled frames from the Segment files) -> change gate -> detector in batches ->
tracking -> one ObjectEvent per object, a report (counts, per-hour histogram, events) and,
optionally, an annotated MP4. Runs as an RQ job on the "analysis" queue (jobs.py) or
synchronously from `manage.py analyze`; services.py holds the entry functions.
"""
