"""SAPIENT (BSI Flex 335 v2.0): the open interface of counter-drone sensors and fusion nodes.

``bindings.py``: the message classes, from the reference .proto files (Dstl, Apache-2.0)
compiled into ``bsi_flex_335_v2_0.binpb`` (see scripts/generate_sapient_bindings.py);
``framing.py``: the TCP framing (a 4-byte little-endian length before each message);
``reports.py``: received DetectionReports -> Detections (the ``kind = "sapient"`` sensor).
Skywarden's own messages (Registration, StatusReport, DetectionReport, Alert) are built in
:mod:`skywarden.sinks.sapient_messages`.
"""
