from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"

    def ready(self):
        from attendance.files import connect

        connect()  # snapshots and face photos leave the disk with their rows
