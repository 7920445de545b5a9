"""What this deployment is: one identifier for everything a public page is rendered from but the data.

The code, the templates, the translations, the static files' names (their
manifest) and the settings the pages print. It is the same on every server and
worker that runs the same deployment, and changes with any of these: kept case
pages (workflow.PublishedRendering) rendered by another build are rendered
anew, and the pages' ETags change, so a proxy never keeps an old page after a
deployment.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from django.conf import settings

# What a page is rendered from, under the project's folder.
_SUFFIXES = {".py", ".html", ".xsl", ".txt", ".mo", ".json", ".css", ".svg"}
_SKIPPED = {"node_modules", "tests", "staticfiles", "uploads", "docs", "scripts", "fixtures", "__pycache__"}
# The settings the public pages show or depend on (names, contact, licence, languages, time zone, addresses).
PRINTED_SETTINGS = (
    "LANGUAGE_CODE",
    "LANGUAGES",
    "TIME_ZONE",
    "STATIC_URL",
    "CASE_ID_PREFIX",
    "ORGANISATION_NAME",
    "ORGANISATION_CONTACT",
    "ORGANISATION_ADDRESS",
    "WORKFLOW_ALLOW_SELF_PUBLISH",
    "DATA_RELEASE_LICENSE",
    "DATA_RELEASE_SITE_URL",
)


@cache
def build_id() -> str:
    """16 hex digits naming this deployment (module docstring); computed once per process."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    files = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in _SKIPPED and not name.startswith(".")]
        files += [Path(folder) / name for name in names if Path(name).suffix in _SUFFIXES]
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        files.append(manifest)
    for path in sorted(files):
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        digest.update(path.read_bytes())
    for name in PRINTED_SETTINGS:
        digest.update(f"{name}={getattr(settings, name, None)!r}".encode())
    return digest.hexdigest()[:16]
