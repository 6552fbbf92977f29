"""Storing identical fonts, images and ICC profiles once in a merged document.

Inputs made by the same tool embed the same font program and logo in every
file; concatenating them stores each copy again. After the pages are copied,
the resources they use are walked once (each resource dictionary at most
once): every image or form XObject, embedded font program and ICC profile is
keyed by its dictionary and its raw (still-encoded) bytes, and any later
identical stream is replaced by a reference to the first. Bytes are read and
hashed only when a second stream with the same dictionary (so the same
/Length and /Filter) turns up: most streams are unique and are never read.
Nothing is decoded, so this is lossless and cheap; the unused duplicates are
simply not written, because qpdf writes only reachable objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from ..lookup import lookup

_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
StreamKey = tuple[bytes, bytes]


def _digest(stream: pikepdf.Object) -> bytes:
    return hashlib.sha256(stream.read_raw_bytes()).digest()


class StreamDeduplicator:
    """Replaces streams identical to one seen before by a reference to that one."""

    def __init__(self) -> None:
        self._keepers: dict[StreamKey, pikepdf.Object] = {}
        self._dictionaries: set[bytes] = set()
        self._unhashed: dict[bytes, pikepdf.Object] = {}
        """The only stream seen so far with a dictionary: hashed when a second one arrives."""
        self._resolved: dict[tuple[int, int], pikepdf.Object] = {}
        self._visited: set[tuple[int, int]] = set()
        self.replaced = 0

    def _first_visit(self, obj: pikepdf.Object) -> bool:
        """False for an indirect object already walked (shared resources are walked once)."""
        if not obj.is_indirect:
            return True
        if obj.objgen in self._visited:
            return False
        self._visited.add(obj.objgen)
        return True

    def _canonical(self, stream: pikepdf.Object) -> pikepdf.Object:
        """The first stream stored with exactly these bytes and this dictionary."""
        if not stream.is_indirect:
            return stream
        known = self._resolved.get(stream.objgen)
        if known is not None:
            return known
        dictionary = stream.stream_dict.unparse()
        if dictionary not in self._dictionaries:
            self._dictionaries.add(dictionary)
            self._unhashed[dictionary] = stream
            keeper = stream
        else:
            first = self._unhashed.pop(dictionary, None)
            if first is not None:
                self._keepers[(dictionary, _digest(first))] = first
            keeper = self._keepers.setdefault((dictionary, _digest(stream)), stream)
        if keeper.objgen != stream.objgen:
            self.replaced += 1
        self._resolved[stream.objgen] = keeper
        return keeper

    def pages(self, pages: Iterable[pikepdf.Object]) -> None:
        """Deduplicate what ``pages`` use, in place.

        Pages of one document usually share one /Resources dictionary: it is
        recognised by its object number before any other work is done.
        """
        for page in pages:
            resources = page.get("/Resources")
            if resources is None:
                continue
            if resources.is_indirect and resources.objgen in self._visited:
                continue
            self.resources(resources)

    def resources(self, resources: pikepdf.Object | None) -> None:
        """Deduplicate what a /Resources dictionary uses, in place."""
        if not isinstance(resources, Dictionary) or not self._first_visit(resources):
            return
        xobjects = lookup(resources, "/XObject")
        if isinstance(xobjects, Dictionary):
            for name, xobject in list(xobjects.items()):
                if isinstance(xobject, Stream):
                    self._xobject(xobject)
                    xobjects[name] = self._canonical(xobject)
        fonts = lookup(resources, "/Font")
        if isinstance(fonts, Dictionary):
            for font in fonts.values():
                self._font(font)
        spaces = lookup(resources, "/ColorSpace")
        if isinstance(spaces, Dictionary):
            for name, space in list(spaces.items()):
                spaces[name] = self._colorspace(space)

    def _xobject(self, xobject: pikepdf.Object) -> None:
        if not self._first_visit(xobject):
            return
        if xobject.get("/Subtype") == Name.Form:
            self.resources(lookup(xobject, "/Resources"))
            return
        for key in ("/SMask", "/Mask"):
            mask = lookup(xobject, key)
            if isinstance(mask, Stream):
                self._xobject(mask)
                xobject[key] = self._canonical(mask)
        if "/ColorSpace" in xobject:
            xobject.ColorSpace = self._colorspace(xobject.ColorSpace)

    def _font(self, font: pikepdf.Object) -> None:
        if not isinstance(font, Dictionary) or not self._first_visit(font):
            return
        descriptor = lookup(font, "/FontDescriptor")
        if isinstance(descriptor, Dictionary):
            for key in _FONT_FILES:
                program = lookup(descriptor, key)
                if isinstance(program, Stream):
                    descriptor[key] = self._canonical(program)
        descendants = lookup(font, "/DescendantFonts")
        if isinstance(descendants, Array):
            for descendant in descendants:
                self._font(descendant)
        self.resources(lookup(font, "/Resources"))

    def _colorspace(self, space: pikepdf.Object) -> pikepdf.Object:
        """``space`` with its ICC profile (or its base's) deduplicated."""
        if not isinstance(space, Array) or len(space) < 2:
            return space
        family = space[0]
        if family == Name.ICCBased and isinstance(space[1], Stream):
            space[1] = self._canonical(space[1])
        elif family == Name.Indexed:
            space[1] = self._colorspace(space[1])
        return space
