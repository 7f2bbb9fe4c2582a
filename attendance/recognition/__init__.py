"""Face recognition for attendance: quality gates, 1:N matching, tracking with vote
smoothing, and the worker stage that turns camera frames into presence and attendance.

Nothing here loads a model at import: the stage is handed a face backend
(detection.backends.face) by its worker entry function or by a test.
"""
