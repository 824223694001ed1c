"""What each fast path needs of a libasterix edition, compiled from its class.

A layout is the edition's record structure (:class:`~skywarden.sources.asterix.structure.
RecordLayout`) plus the few facts the category's column reader depends on (a signed flight
level, where a compound's subitems sit). Layouts are plain frozen dataclasses whose ``repr``
is Python that rebuilds them, which is how ``scripts/generate_asterix_subset.py`` checks them
in (:mod:`skywarden.sources.asterix.compiled_editions`), so the fast paths need not import
libasterix's classes at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from skywarden.sources.asterix.structure import RecordLayout, compile_record
from skywarden.units import DEG


@dataclass(frozen=True)
class PlotSubitem:
    """One numeric subitem of I048/130 (radar plot characteristics), as the edition defines it."""

    column: str
    index: int  # position in the compound's FSPEC
    nbytes: int
    lsb: float  # libasterix's LSB in the item's unit
    unit: float  # that unit in SI
    signed: bool


@dataclass(frozen=True)
class Cat048Layout:
    """A CAT048 edition: its records' structure, I048/090's signedness, I048/130's subitems."""

    layout: RecordLayout
    fl_signed: bool
    plot_characteristics: tuple[PlotSubitem, ...]


@dataclass(frozen=True)
class Cat034Layout:
    """A CAT034 edition: its records' structure and where I034/050's COM subitem is."""

    layout: RecordLayout
    com: int  # index of the COM subitem in I034/050's compound FSPEC (-1: none)


@dataclass(frozen=True)
class Cat062Layout:
    """A CAT062 edition: its records' structure, whether I062/080 has SFC, and subitems."""

    layout: RecordLayout
    has_sfc: bool  # I062/080 has the SFC (surface target) bit: editions 1.17 and later
    sub: dict[str, dict[str, int]]  # item -> subitem name -> index in its compound FSPEC


# I048/130 radar plot characteristics: subitem -> (column, unit scale to SI)
PLOT_CHARACTERISTICS = {
    "PAM": ("primary_amplitude_dbm", 1.0),
    "PRL": ("primary_runlength_rad", DEG),
    "SAM": ("ssr_amplitude_dbm", 1.0),
    "SRL": ("ssr_runlength_rad", DEG),
}
CAT062_SUBITEMS = {  # item -> subitem -> bytes
    "380": {"ADR": 3, "ID": 6},
    "390": {"CS": 7, "FCT": 1, "TAC": 4, "WTC": 1},
    "500": {"APC": 4},
}


def compile_layout(spec: type) -> Cat048Layout | Cat034Layout | Cat062Layout:
    """The layout of a libasterix CAT048, CAT034 or CAT062 class."""
    compile_category = {48: _cat048, 34: _cat034, 62: _cat062}.get(int(spec.cv_category))
    if compile_category is None:
        raise ValueError(f"no fast path for CAT{int(spec.cv_category):03d}")
    return compile_category(spec)


def _cat048(spec: type) -> Cat048Layout:
    from asterix.base import Signed

    record = spec.cv_uap.cv_record
    fl = record.cv_items_dict["090"].cv_rule.cv_variation.cv_items_dict["FL"]
    content = fl.cv_variation.cv_rule.cv_content
    return Cat048Layout(
        compile_record(record),
        content.cv_signedness is Signed,
        _plot_subitems(record, Signed),
    )


def _plot_subitems(record: type, signed_kind: type) -> tuple[PlotSubitem, ...]:
    """Layout (index, bytes, LSB, signedness) of I048/130's subitems, from libasterix."""
    nsp = record.cv_items_dict.get("130")
    if nsp is None:
        return ()
    out = []
    for index, sub in enumerate(nsp.cv_rule.cv_variation.cv_items_list):
        if sub is None or sub.cv_name not in PLOT_CHARACTERISTICS:
            continue
        column, unit = PLOT_CHARACTERISTICS[sub.cv_name]
        variation = sub.cv_rule.cv_variation
        content = variation.cv_rule.cv_content
        if variation.cv_bit_size % 8:  # pragma: no cover - not in any CAT048 edition
            raise ValueError(f"I048/130 {sub.cv_name}: not a whole number of bytes")
        nbytes, signed = variation.cv_bit_size // 8, content.cv_signedness is signed_kind
        out.append(PlotSubitem(column, index, nbytes, content.cv_lsb, unit, signed))
    return tuple(out)


def _subitem_indices(record: type, item: str, wanted: dict[str, int]) -> dict[str, int]:
    """Subitem name -> index in the compound item's FSPEC, for the wanted names present."""
    nsp = record.cv_items_dict.get(item)
    names = [] if nsp is None else nsp.cv_rule.cv_variation.cv_items_list
    return {s.cv_name: k for k, s in enumerate(names) if s is not None and s.cv_name in wanted}


def _cat034(spec: type) -> Cat034Layout:
    record = spec.cv_uap.cv_record
    com = _subitem_indices(record, "050", {"COM": 1}).get("COM", -1)
    return Cat034Layout(compile_record(record), com)


def _cat062(spec: type) -> Cat062Layout:
    record = spec.cv_uap.cv_record
    sub = {item: _subitem_indices(record, item, wanted) for item, wanted in CAT062_SUBITEMS.items()}
    return Cat062Layout(compile_record(record), tuple(spec.cv_edition) >= (1, 17), sub)
