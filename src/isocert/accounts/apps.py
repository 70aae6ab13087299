from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "isocert.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"
