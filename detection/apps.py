from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "detection"

    def ready(self):
        from django.db.models.signals import post_delete

        from detection.models import ObjectEvent
        from detection.retention import delete_snapshot_file

        # A signal, not a service: rows also go by cascade (a camera or an analysis job
        # deleted), which no service of ours sees.
        post_delete.connect(delete_snapshot_file, sender=ObjectEvent, dispatch_uid="detection.delete_snapshot_file")
