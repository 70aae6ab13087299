from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "isocert.notifications"
    label = "notifications"
    verbose_name = "Notifications"
