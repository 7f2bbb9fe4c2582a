from django import template

from detection.status import AI_LABELS

register = template.Library()


@register.filter
def ai_state(states: dict, slug: str) -> str:
    """The camera's AI state from detection.live_status.camera_ai_states(); "" when unknown."""
    return (states or {}).get(slug, "")


@register.filter
def ai_label(state: str) -> str:
    return AI_LABELS.get(state, "AI waiting")
