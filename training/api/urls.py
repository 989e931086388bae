from rest_framework.routers import DefaultRouter

from training.api import views

router = DefaultRouter()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("teams", views.TeamViewSet, basename="team")
router.register("staff", views.StaffMemberViewSet, basename="staff")
router.register("courses", views.CourseViewSet, basename="course")
router.register("sessions", views.TrainingSessionViewSet, basename="session")
router.register("attendance", views.AttendanceViewSet, basename="attendance")

urlpatterns = router.urls
