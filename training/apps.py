from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training records"

    def ready(self):
        # Registers training's purgers and staff-data sources (see those modules).
        from training import retention, staff_data  # noqa: F401
