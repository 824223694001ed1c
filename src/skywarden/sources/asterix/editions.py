"""The ASTERIX editions the decoder tries, and the layouts its fast paths walk them with.

An :class:`Edition` names one libasterix category class (category, edition number, class
name) and imports that class only when it is first needed: for a block that the fast paths
hand to libasterix. The fast paths need only each edition's compiled layout
(:mod:`skywarden.sources.asterix.layouts`), and those are checked in, compiled from the
installed libasterix by ``scripts/generate_asterix_subset.py``
(:mod:`skywarden.sources.asterix.compiled_editions`), so decoding a CAT034/048 recording
imports none of libasterix's spec classes (~0.1 s at start-up). When the installed
libasterix is not the version they were compiled from, the editions and layouts come from
its classes (slower to start, never wrong).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from skywarden.sources.asterix.layouts import compile_layout
from skywarden.sources.asterix.libasterix_subset import category_manifest

SUPPORTED_CATEGORIES = (21, 34, 48, 62)
SEARCH_ORDER = (48, 21, 62, 34)  # the order editions_of lists the categories in


@dataclass(frozen=True)
class Edition:
    """One libasterix edition of a category; ``spec`` is its class, imported on first use.

    Editions compare by category, edition number and class name. ``given`` holds the class
    when the edition was made from one (:func:`editions_of`); the fast paths then compile
    its layout from that class rather than take the checked-in one.
    """

    category: int
    version: tuple[int, int]
    class_name: str
    given: type | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """'1.32'."""
        return "{}.{}".format(*self.version)

    @property
    def spec(self) -> type:
        """The libasterix category class (its ``cv_uap`` parses a block)."""
        return self.given if self.given is not None else _subset_class(self)

    @staticmethod
    def of(spec: type) -> Edition:
        """The edition of a libasterix category class."""
        return Edition(int(spec.cv_category), tuple(spec.cv_edition), spec.__name__, spec)


@cache
def _subset_class(edition: Edition) -> type:
    for spec in category_manifest(edition.category)["CATS"][edition.category]:
        if spec.__name__ == edition.class_name and tuple(spec.cv_edition) == edition.version:
            return spec
    raise LookupError(f"libasterix has no {edition.class_name} (CAT{edition.category:03d})")


def _ordered(editions: list[Edition], cat: int) -> tuple[Edition, ...]:
    """Newest first (so CAT021's 2.x editions come before its 0.2x ones; only those two
    majors of CAT021 are tried)."""
    if cat == 21:
        editions = [e for e in editions if e.version[0] in (2, 0)]
    return tuple(sorted(editions, key=lambda e: e.version, reverse=True))


def editions_of(manifest: dict) -> dict[int, tuple[Edition, ...]]:
    """Editions tried per category, in order (newest first; CAT021: 2.x before 0.2x), from a
    libasterix ``manifest`` (e.g. the whole ``asterix.generated`` one, the reference)."""
    return {
        cat: _ordered([Edition.of(s) for s in manifest["CATS"][cat]], cat) for cat in SEARCH_ORDER
    }


def _compiled() -> Any | None:
    """The checked-in editions and layouts, or None if compiled from another libasterix."""
    from skywarden.sources.asterix import compiled_editions
    from skywarden.sources.asterix.libasterix_subset import installed_libasterix_version

    if compiled_editions.LIBASTERIX_VERSION != installed_libasterix_version():
        return None  # category_manifest logs the mismatch when the classes are imported
    return compiled_editions


class CategoryEditions(Mapping[int, tuple[Edition, ...]]):
    """The default editions: every edition libasterix ships of CAT048, 021, 062 and 034, in
    :func:`editions_of`'s order, from the checked-in list (no class imported), or from the
    generated per-category subset (:mod:`skywarden.sources.asterix.libasterix_subset`) when
    the installed libasterix is another version."""

    def __init__(self) -> None:
        self._loaded: dict[int, tuple[Edition, ...]] = {}

    def __getitem__(self, cat: int) -> tuple[Edition, ...]:
        if cat not in self._loaded:
            if cat not in SUPPORTED_CATEGORIES:
                raise KeyError(cat)
            compiled = _compiled()
            if compiled is not None:
                listed = [Edition(cat, v, n) for v, n in compiled.EDITIONS[cat]]
            else:
                listed = [
                    Edition(cat, tuple(s.cv_edition), s.__name__)
                    for s in category_manifest(cat)["CATS"][cat]
                ]
            self._loaded[cat] = _ordered(listed, cat)
        return self._loaded[cat]

    def __iter__(self) -> Iterator[int]:
        return iter(SEARCH_ORDER)

    def __len__(self) -> int:
        return len(SEARCH_ORDER)


def default_editions() -> Mapping[int, tuple[Edition, ...]]:
    """Editions tried per category, in order: :class:`CategoryEditions`."""
    return CategoryEditions()


def edition_layout(edition: Edition) -> Any:
    """What the category's fast path walks and reads an edition's blocks with (a
    ``Cat048Layout``, ``Cat034Layout`` or ``Cat062Layout``): the checked-in one, or
    compiled from the edition's class (an edition made from a class, or another
    libasterix)."""
    return _layout(edition, edition.given)


@cache
def _layout(edition: Edition, given: type | None) -> Any:  # given: editions equal without it
    if given is None:
        compiled = _compiled()
        if compiled is not None:
            found = compiled.LAYOUTS.get((edition.category, edition.version))
            if found is not None:
                return found
    return compile_layout(edition.spec)
