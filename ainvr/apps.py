from django.contrib.admin.apps import AdminConfig


class AinvrAdminConfig(AdminConfig):
    """Makes AinvrAdminSite the default site, so apps that register with admin.site
    (django-rq's queue dashboard included) sit behind the same role check."""

    default_site = "ainvr.admin_site.AinvrAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin.py
        from ainvr.admin_site import tidy_third_party_admins

        tidy_third_party_admins()
