"""Why a page was not fetched: the errors of ``sources.fetch``, in a module of their own so that
``sources.addresses`` (which ``sources.fetch`` imports) can raise them too.
"""


class FetchError(Exception):
    """A page that was not fetched; ``str(error)`` is a sentence for staff, in their language."""

    retry: bool = False


class FetchRefused(FetchError):
    """Never fetched, and never will be: not http(s), not a public address, too large, too many redirects."""

    retry = False


class FetchFailed(FetchError):
    """The fetch did not succeed this time (too slow, no connection, no DNS answer, TLS failure): retry later."""

    retry = True
