from rest_framework.routers import SimpleRouter

from surveys.api import views

router = SimpleRouter()
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("administrations", views.AdministrationViewSet, basename="administration")
router.register("responses", views.ResponseViewSet, basename="response")

urlpatterns = router.urls
