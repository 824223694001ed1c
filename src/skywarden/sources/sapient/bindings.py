"""The SAPIENT BSI Flex 335 v2.0 message classes, loaded from the committed descriptor set.

``bsi_flex_335_v2_0.binpb`` is the reference .proto files (``../shared/specs/sapient``, Dstl,
Apache-2.0) compiled by protoc (scripts/generate_sapient_bindings.py). It is loaded into a
private descriptor pool on first use (no work at import time), so the classes here cannot clash
with another copy of the same definitions (the ``sapient-msg`` package) in the process.

    from skywarden.sources.sapient.bindings import sapient
    msg = sapient().SapientMessage(node_id="...")
"""

from __future__ import annotations

import functools
from importlib import resources
from types import SimpleNamespace
from typing import Any

PACKAGE = "sapient_msg.bsi_flex_335_v2_0"
DESCRIPTOR_SET = "bsi_flex_335_v2_0.binpb"
TOP_LEVEL = (
    "SapientMessage", "Registration", "RegistrationAck", "StatusReport", "DetectionReport",
    "Task", "TaskAck", "Alert", "AlertAck", "Error", "Location", "RangeBearing", "ENUVelocity",
    "LocationOrRangeBearing", "AssociatedDetection",
)  # fmt: skip


@functools.cache
def sapient() -> Any:
    """A namespace of the SAPIENT message classes (``SapientMessage``, ``DetectionReport``,
    ``Alert``, ... by their proto names) and ``pool``, the descriptor pool they live in."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    data = resources.files(__package__).joinpath(DESCRIPTOR_SET).read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    names = [f.name for f in files.file]
    classes = message_factory.GetMessageClassesForFiles(names, pool)
    space = SimpleNamespace(pool=pool, descriptor_set=data)
    for name in TOP_LEVEL:
        setattr(space, name, classes[f"{PACKAGE}.{name}"])
    return space
