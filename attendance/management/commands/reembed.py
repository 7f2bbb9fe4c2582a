from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Recompute every face template with the configured face backend (run after changing the model)."

    def handle(self, *args, **options):
        from attendance.enrolment import reembed_all
        from attendance.recognition.backend import face_backend_from_settings
        from detection.backends.face import FaceBackendUnavailable

        try:
            backend = face_backend_from_settings()
        except FaceBackendUnavailable as e:
            raise CommandError(str(e)) from None
        rebuilt, problems = reembed_all(backend)
        for template_id, reason in problems:
            self.stderr.write(f"template {template_id}: {reason} (kept its old vector; replace the photo)")
        self.stdout.write(
            f"{rebuilt} face templates re-embedded with {backend.model_name}; {len(problems)} not usable."
        )
        if problems:
            raise CommandError(f"{len(problems)} face photos could not be re-embedded")
