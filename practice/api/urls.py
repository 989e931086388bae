from rest_framework.routers import SimpleRouter

from practice.api import views

router = SimpleRouter()
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("audits", views.AuditViewSet, basename="audit")
router.register("rubrics", views.RubricViewSet, basename="rubric")
router.register("audit-schedule", views.AuditAssignmentViewSet, basename="audit-assignment")

urlpatterns = router.urls
