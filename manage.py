#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetracker.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Read the settings first: for some commands Django would otherwise keep a
    # settings error to itself and fail later with an unrelated message.
    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading it loads and checks the settings)
    except ImproperlyConfigured as error:
        sys.exit(f"Whereabouts cannot start: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
