from rest_framework.pagination import PageNumberPagination


class BoundedPageNumberPagination(PageNumberPagination):
    """Page-number pagination where callers may choose a page size, but never above 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
