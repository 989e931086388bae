from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Referrals and practice audits"

    def ready(self):
        from practice.retention import referral_audits_purge
        from practice.staff_data import referral_comments_erase, referrals_export
        from training.retention import register_purger
        from training.staff_data import register_staff_data

        register_purger("referrals and their audits (practice)", referral_audits_purge)
        register_staff_data(
            "referrals and their audits (practice)", export=referrals_export, erase=referral_comments_erase
        )
