from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "isocert.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self):
        from allauth.mfa.signals import authenticator_added

        from .second_factor import record_second_factor_on_setup

        authenticator_added.connect(record_second_factor_on_setup,
                                    dispatch_uid="isocert.accounts.second_factor_on_setup")
