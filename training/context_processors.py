from practice.navigation import nav_links as practice_nav_links
from training.models import Role


def navigation(request):
    """The service navigation: only links the signed-in user's role can open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [("Home", "dashboard")]
    if user.has_role(Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD):
        links.append(("Courses", "course-list"))
        links.append(("Staff", "staff-list"))
    if user.has_role(Role.TRAINER, Role.WORKFORCE_LEAD):
        links.append(("Questionnaires", "instrument-list"))
    links += practice_nav_links(user)
    if user.has_role(Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD):
        links.append(("Impact report", "impact-report"))
    return {"nav_links": links}
