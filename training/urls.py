from django.urls import path

from training import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("accounts/mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("courses/", views.course_list, name="course-list"),
    path("courses/new/", views.course_create, name="course-create"),
    path("courses/<slug:slug>/", views.course_detail, name="course-detail"),
    path("courses/<slug:slug>/edit/", views.course_edit, name="course-edit"),
    path("courses/<slug:slug>/sessions/new/", views.session_create, name="session-create"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session-edit"),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session-attendance"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/<int:pk>/", views.staff_detail, name="staff-detail"),
    path("imports/staff/", views.import_staff, name="import-staff"),
    path("imports/attendance/", views.import_attendance, name="import-attendance"),
]
