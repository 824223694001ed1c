"""The reference SAPIENT definitions (../shared/specs/sapient) compiled by protoc at test time.

Skips when the specs or grpcio-tools (dev dependency: protoc) are absent."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "sapient"


def specs_dir() -> Path:
    if not (SPECS / "sapient_msg").is_dir():
        pytest.skip(f"SAPIENT reference definitions not found at {SPECS}")
    return SPECS


def protoc():
    return pytest.importorskip("grpc_tools.protoc", reason="grpcio-tools (dev) brings protoc")


def proto_files(specs: Path) -> list[str]:
    return sorted(str(p.relative_to(specs)) for p in (specs / "sapient_msg").rglob("*.proto"))


def compile_python(tmp: Path):
    """protoc --python_out of every reference file; returns the SapientMessage module."""
    specs, pc = specs_dir(), protoc()
    include = Path(pc.__file__).parent / "_proto"
    assert pc.main(["protoc", f"-I{specs}", f"-I{include}", f"--python_out={tmp}",
                    *proto_files(specs)]) == 0  # fmt: skip
    sys.path.insert(0, str(tmp))
    try:
        return importlib.import_module("sapient_msg.bsi_flex_335_v2_0.sapient_message_pb2")
    finally:
        sys.path.remove(str(tmp))
