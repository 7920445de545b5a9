"""An S3-compatible store for the tests: moto's server on 127.0.0.1, in this process, never the network.

Use the fixtures by importing them into a test module::

    from .s3 import s3_server, s3_storage  # noqa: F401 (fixtures)

``s3_storage`` makes a fresh bucket for the test and makes it the default
storage (``settings.STORAGES["default"]``, built by the settings' own
``s3_storage`` from the S3_* variables), so that uploads, data releases and
``default_storage`` all go there; Django forgets the storage it had
(``django.test.signals.storages_changed``) when the setting changes and again
when the test ends.
"""

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import pytest
from moto.server import ThreadedMotoServer

from casetracker.settings import s3_connection
from casetracker.settings import s3_storage as s3_storage_settings

REGION = "us-east-1"
KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}


@dataclass
class S3Bucket:
    """The test's bucket (and any other it makes), with a client to look inside them."""

    name: str
    endpoint: str
    client: Any
    made: list[str] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        """The S3_* variables that name this store (and this bucket)."""
        return {"S3_BUCKET": self.name, "S3_ENDPOINT_URL": self.endpoint, "S3_REGION": REGION, **KEYS}

    def new_bucket(self) -> str:
        """Another empty bucket of the same store."""
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        self.made.append(name)
        return name

    def object_keys(self, bucket: str | None = None) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket or self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str, bucket: str | None = None) -> bytes:
        return self.client.get_object(Bucket=bucket or self.name, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, for the whole test session; its address."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server) -> Iterator[S3Bucket]:
    """A fresh, empty bucket as the default storage (and the store's connection for restore), for one test."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name=REGION,
        aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"],
    )
    bucket = S3Bucket(name="", endpoint=s3_server, client=client)
    bucket.name = bucket.new_bucket()
    with mock.patch.dict(os.environ, bucket.environment):
        settings.S3_CONNECTION = s3_connection()
        settings.STORAGES = {**settings.STORAGES, "default": s3_storage_settings(bucket.name, "")}
    yield bucket
    for name in bucket.made:
        for key in bucket.object_keys(name):
            client.delete_object(Bucket=name, Key=key)
        client.delete_bucket(Bucket=name)
