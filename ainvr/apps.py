from django.contrib.admin.apps import AdminConfig


class AinvrAdminConfig(AdminConfig):
    """Makes AinvrAdminSite the default site, so apps that register with admin.site
    (django-rq's queue dashboard included) sit behind the same role check."""

    default_site = "ainvr.admin_site.AinvrAdminSite"
