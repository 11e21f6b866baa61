"""Small helpers for reading where a request wants to go next."""

from django.utils.http import url_has_allowed_host_and_scheme


def local_url(request, target: str | None) -> str | None:
    """`target` if it is a path on this site (a `next` field or parameter), otherwise None. Only a path
    will do: another host is an open redirect, and a bare word given to `redirect()` would be looked up
    as a view name and fail with a server error."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return None
