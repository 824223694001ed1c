"""skywarden's SAPIENT bindings against the reference .proto files, compiled here by protoc:
the committed descriptor set is what protoc makes of them, and every message skywarden builds
round-trips byte for byte through the reference's own generated classes (and back)."""

from __future__ import annotations

import math

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.json_format import MessageToDict

from skywarden.sinks.sapient_messages import (
    alert_message,
    detection_reports,
    registration,
    status_report,
)
from skywarden.snapshot import Snapshot
from skywarden.sources.sapient.bindings import sapient
from tests.sources.sapient.reference import compile_python, proto_files, protoc, specs_dir
from tests.store.snapshot_builders import SITE, make_alert, make_tracks

T0 = 1_700_000_000.25
NODE = "2f1c9a52-8d55-5d4e-9c1e-2b1a7c3f4e5d"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return compile_python(tmp_path_factory.mktemp("sapient_ref")).SapientMessage


def ours_messages():
    snap = Snapshot(seq=3, t=T0, site=SITE, tracks=make_tracks([1, 3, 4], T0, classes=[1, 2, 3]))
    import numpy as np

    reports = detection_reports(snap, NODE, {}, np.arange(3))
    return [
        registration(NODE, T0, "test site", status_interval_s=5.0),
        status_report(NODE, T0, SITE, ok=False, fault="radar silent"),
        *reports,
        alert_message(make_alert(7, T0, inside=False), T0, NODE, "01HF0000000000000000000000"),
        alert_message(make_alert(7, T0 + 9, state="cleared"), T0 + 9, NODE, None),
    ]


def test_descriptor_set_is_what_protoc_makes_of_the_reference(tmp_path):
    specs, pc = specs_dir(), protoc()
    from pathlib import Path

    out = tmp_path / "ref.binpb"
    include = Path(pc.__file__).parent / "_proto"
    assert pc.main(["protoc", f"-I{specs}", f"-I{include}", f"--descriptor_set_out={out}",
                    "--include_imports", *proto_files(specs)]) == 0  # fmt: skip
    ref = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    ours = descriptor_pb2.FileDescriptorSet.FromString(sapient().descriptor_set)
    assert {f.name: f for f in ours.file} == {f.name: f for f in ref.file}


def test_every_message_round_trips_byte_exact_through_the_reference(reference):
    for msg in ours_messages():
        data = msg.SerializeToString(deterministic=True)
        ref = reference.FromString(data)
        assert ref.SerializeToString(deterministic=True) == data
        # every field is known to the reference under the same name and number
        assert MessageToDict(ref) == MessageToDict(msg)
        back = sapient().SapientMessage.FromString(ref.SerializeToString(deterministic=True))
        assert back.SerializeToString(deterministic=True) == data


def test_reference_built_detection_report_parses_in_ours(reference):
    ref = reference(node_id=NODE)
    ref.timestamp.seconds = 1_700_000_000
    rep = ref.detection_report
    rep.report_id, rep.object_id = "01HF000000000000000000000A", "01HF000000000000000000000B"
    rep.location.x, rep.location.y, rep.location.z = -0.1, 51.5, 120.0
    rep.location.x_error, rep.location.y_error = 1e-4, 1e-4
    rep.location.coordinate_system, rep.location.datum = 1, 1
    rep.enu_velocity.east_rate, rep.enu_velocity.north_rate = 3.0, -4.0
    rep.classification.add(type="UAV", confidence=0.9)
    data = ref.SerializeToString(deterministic=True)
    ours = sapient().SapientMessage.FromString(data)
    assert ours.SerializeToString(deterministic=True) == data
    assert ours.detection_report.location.y == 51.5
    assert ours.detection_report.classification[0].type == "UAV"
    assert math.isclose(ours.detection_report.classification[0].confidence, 0.9, rel_tol=1e-6)
