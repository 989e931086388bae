from django.urls import path

from practice import views

urlpatterns = [
    path("referrals/", views.referral_list, name="referral-list"),
    path("referrals/new/", views.referral_create, name="referral-create"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/edit/", views.referral_edit, name="referral-edit"),
    path("referrals/<int:pk>/audit/", views.audit_start, name="audit-start"),
    path("referrals/<int:pk>/second-audit/", views.second_audit_request, name="second-audit-request"),
    path("referrals/<int:pk>/moderate/", views.moderation_form, name="moderation-form"),
    path("audits/", views.audit_history, name="audit-history"),
    path("audits/due/", views.audits_due, name="audits-due"),
    path("audits/coverage/", views.coverage, name="audit-coverage"),
    path("audits/<int:pk>/", views.audit_detail, name="audit-detail"),
    path("moderation/", views.moderation_list, name="moderation-list"),
    path("imports/referrals/", views.import_referrals, name="import-referrals"),
    path("imports/audits/", views.import_audits, name="import-audits"),
]
