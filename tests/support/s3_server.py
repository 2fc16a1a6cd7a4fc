"""S3 served by moto on loopback, for the tests of object-store roots.

`serve()` starts a threaded moto server on 127.0.0.1 with one bucket and yields what a test
needs: a boto3 client for raw access, the storage options that point the log at it (with
`AWS_CONDITIONAL_PUT=etag`: commits and conditional puts use If-None-Match and If-Match),
and the same as environment variables for subprocesses and the command line.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "catalog"


@dataclass
class S3:
    """A bucket on a moto server: raw client, storage options, environment."""

    client: Any
    options: dict[str, str]

    def new_root(self) -> str:
        """Return a root no other test uses."""
        return f"s3://{BUCKET}/{uuid.uuid4().hex}"

    def key(self, root: str, name: str) -> str:
        """Return the key of `name` (relative to `root`) in the bucket."""
        return f"{root.removeprefix(f's3://{BUCKET}/')}/{name}"

    def read(self, root: str, name: str) -> bytes:
        """Return the content of object `name` under `root`."""
        content: bytes = self.client.get_object(Bucket=BUCKET, Key=self.key(root, name))[
            "Body"
        ].read()
        return content

    def write(self, root: str, name: str, content: bytes) -> None:
        """Overwrite object `name` under `root`."""
        self.client.put_object(Bucket=BUCKET, Key=self.key(root, name), Body=content)

    def names(self, root: str, folder: str) -> list[str]:
        """Return the names (relative to `root`) of the objects under `folder`."""
        prefix = self.key(root, folder)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        base = self.key(root, "")
        return sorted(
            item["Key"].removeprefix(base) for page in pages for item in page.get("Contents", [])
        )


@contextmanager
def serve() -> Iterator[S3]:
    """Serve S3 with moto on 127.0.0.1 until the block ends; yield the bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_CONDITIONAL_PUT": "etag",
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield S3(client, options)
    finally:
        server.stop()
