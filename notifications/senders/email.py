"""Email through Django's email backend (EMAIL_URL): text and HTML, the snapshot attached.
Attendance goes to no address of a user who is not an admin."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from notifications.selectors import admins_only, email_recipients
from notifications.senders import DeliveryError, PermanentError


def send(delivery, message, snapshot) -> None:
    private = admins_only(delivery.payload)
    recipients = email_recipients(delivery.channel, admins_only=private)
    if not recipients:
        if private:
            raise PermanentError("Every recipient is a user who is not an admin (attendance goes to admins only).")
        raise PermanentError("The channel has no recipients.")
    context = {"message": message, "delivery": delivery, "has_snapshot": snapshot is not None}
    mail = EmailMultiAlternatives(
        subject=f"[AINVR] {message.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"X-AINVR-Delivery": str(delivery.pk), "X-AINVR-Event": message.event},
        connection=get_connection(fail_silently=False),
    )
    mail.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    if snapshot is not None:
        mail.attach(snapshot.filename, snapshot.content, snapshot.mimetype)
    try:
        mail.send()
    except Exception as e:  # smtplib, socket and SSL errors alike: the server may be back later
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
