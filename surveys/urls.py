from django.urls import path

from surveys import views

urlpatterns = [
    path("questionnaires/", views.instrument_list, name="instrument-list"),
    path("questionnaires/<slug:slug>/", views.instrument_detail, name="instrument-detail"),
    path("questionnaires/<slug:slug>/copy/", views.instrument_copy, name="instrument-copy"),
    path("questionnaires/<slug:slug>/questions/new/", views.item_add, name="item-add"),
    path("questionnaires/<slug:slug>/questions/<slug:code>/", views.item_edit, name="item-edit"),
    path("questionnaires/<slug:slug>/questions/<slug:code>/remove/", views.item_remove, name="item-remove"),
    path("sessions/<int:pk>/questionnaires/", views.session_questionnaires, name="session-questionnaires"),
    path("sessions/<int:pk>/questionnaires/set-up/", views.session_attach, name="session-attach"),
    path("sessions/<int:pk>/questionnaires/send/", views.session_send, name="session-send"),
    path(
        "sessions/<int:pk>/questionnaires/export/<str:layout>.csv",
        views.session_export,
        name="session-export",
    ),
    path("q/<str:token>/", views.questionnaire, name="questionnaire"),
    path("q/<str:token>/opt-out/", views.questionnaire_opt_out, name="questionnaire-opt-out"),
]
