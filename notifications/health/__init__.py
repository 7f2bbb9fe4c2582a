"""Health alerts: notification rules about the system itself (a camera offline, storage
running out, the detector or face recognition down or restarting in a loop).

Run by runworkers as a periodic task (`HealthCheckTask`): each run looks at what is wrong
now (observe.py: CameraStatus rows, disk figures, the stage statuses in Redis), records
each trouble from when it began (HealthCondition), and notifies through the rules' channels
(evaluate.py): "down" once a trouble has lasted the rule's `health_after_seconds`, at most
once per rule cooldown per subject, and one "back" after each "down" sent.
"""

from notifications.health.task import HealthCheckTask

__all__ = ["HealthCheckTask"]
