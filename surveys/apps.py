from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Questionnaires and audit rubrics"

    def ready(self):
        from surveys.retention import questionnaire_answers_purge
        from surveys.staff_data import questionnaire_responses_erase, questionnaire_responses_export
        from training.retention import register_purger
        from training.staff_data import register_staff_data

        register_purger("questionnaire answers (surveys)", questionnaire_answers_purge)
        register_staff_data(
            "questionnaire responses (surveys)",
            export=questionnaire_responses_export,
            erase=questionnaire_responses_erase,
        )
