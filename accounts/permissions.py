"""Role checks shared by the API, the pages and the WebSocket consumers."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def has_role(user) -> bool:
    """Any active user with a role may use the operator side of AINVR."""
    return bool(user and user.is_authenticated and (user.is_admin or user.is_operator))


class IsAdmin(BasePermission):
    """Admins only: settings, users, destructive maintenance."""

    message = "This needs the admin role."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class IsAdminOrOperator(BasePermission):
    """Any role, any method: for what operators may do as well as read (analysis jobs)."""

    def has_permission(self, request, view):
        return has_role(request.user)


class IsAdminOrReadOnlyOperator(BasePermission):
    """The default: operators read, admins also write."""

    message = "Operators may only read this; changing it needs the admin role."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user)
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)
