from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ainvr import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/", include("accounts.urls", namespace="accounts")),
    # Before the admin's own "view on site" route, which it replaces (a 500 for some models).
    path("admin/r/<path:content_type_id>/<path:object_id>/", views.view_on_site, name="view_on_site"),
    path("admin/", admin.site.urls),
    path("api/", include(("ainvr.api.urls", "api"), namespace="api")),
    path("", include(("notifications.urls", "notifications"), namespace="notifications")),
    path("attendance/", include("attendance.urls", namespace="attendance")),
    path("", include("ops.urls")),  # /healthz, /metrics
    path("live/", include("pipeline.live.urls", namespace="live")),
    path("playback/", include("review.playback_urls", namespace="playback")),
    path("recordings/", include("recordings.urls", namespace="recordings")),
    path("analysis/", include("detection.urls", namespace="analysis")),
    path("review/", include("review.urls", namespace="review")),
]

handler404 = "ainvr.views.not_found"
handler500 = "ainvr.views.server_error"
