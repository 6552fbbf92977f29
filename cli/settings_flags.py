"""Command-line flags → :class:`~pdfbinder.compat.settings.Settings`, for ``serve`` and ``worker``.

Both commands take flags that map onto settings fields; a flag left out
(``None``) keeps the value from the ``PDFBINDER_*`` environment variables or
the default, and an invalid value is a one-line usage error, not a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .common import EXIT_USAGE, fail

if TYPE_CHECKING:
    from pdfbinder.compat.settings import Settings


def settings_from_flags(given: dict[str, Any]) -> Settings:
    """``Settings`` from the flags in ``given`` (field → value) that were set."""
    # Imported here: the server stack loads only for the commands that serve.
    from pydantic import ValidationError

    from pdfbinder.compat.settings import Settings

    try:
        return Settings(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as error:
        fail(
            f"invalid setting: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}",
            EXIT_USAGE,
        )


def check_cluster_flags(settings: Settings) -> None:
    """A usage error when the scale-out settings do not fit together."""
    from pdfbinder.compat.cluster import ClusterConfigError, check_cluster_settings

    try:
        check_cluster_settings(settings)
    except ClusterConfigError as error:
        fail(str(error), EXIT_USAGE)
