"""Regenerate skywarden's SAPIENT (BSI Flex 335 v2.0) bindings from the reference .proto files.

    pip install grpcio-tools            # dev only: brings protoc
    python scripts/generate_sapient_bindings.py [../shared/specs/sapient]

Writes ``src/skywarden/sources/sapient/bsi_flex_335_v2_0.binpb``: one FileDescriptorSet (the
compiled form of every SAPIENT .proto and its imports), which
:mod:`skywarden.sources.sapient.bindings` loads into a private descriptor pool at run time. A
descriptor set instead of ``*_pb2.py`` modules: it works with any protobuf runtime >= 4.25
(generated modules pin the runtime to protoc's own version), and a private pool cannot clash
with another copy of the SAPIENT definitions (the ``sapient-msg`` package) in the same process.
``tests/sources/sapient/test_bindings.py`` recompiles the reference files and checks that the
committed set is identical and that messages round-trip byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPECS = ROOT.parent / "shared" / "specs" / "sapient"
OUT = ROOT / "src" / "skywarden" / "sources" / "sapient" / "bsi_flex_335_v2_0.binpb"


def compile_descriptor_set(specs: Path, out: Path) -> None:
    """protoc (grpcio-tools) -> a FileDescriptorSet with imports, in a canonical file order."""
    from grpc_tools import protoc

    files = sorted(str(p.relative_to(specs)) for p in (specs / "sapient_msg").rglob("*.proto"))
    args = ["protoc", f"-I{specs}", f"-I{Path(protoc.__file__).parent / '_proto'}",
            f"--descriptor_set_out={out}", "--include_imports", *files]  # fmt: skip
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {specs}")


if __name__ == "__main__":
    specs = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPECS
    compile_descriptor_set(specs, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) from {specs}")
