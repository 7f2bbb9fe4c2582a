from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from attendance.signals import attendance_notice
        from detection.signals import alert_raised
        from notifications import receivers

        alert_raised.connect(receivers.on_alert_raised, dispatch_uid="notifications.alert_raised")
        attendance_notice.connect(receivers.on_attendance_notice, dispatch_uid="notifications.attendance_notice")
