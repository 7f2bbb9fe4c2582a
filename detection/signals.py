"""What detection tells the apps above it (notifications) without knowing them."""

from django.dispatch import Signal

# Sent with event_id (an ObjectEvent's pk) when that object turns its review item into an
# alert, inside the transaction: receivers act on commit.
alert_raised = Signal()
