"""Named destinations, namespaced per input so every link lands on its own document's page.

Two inputs may both define ``chap1``. qpdf and pypdf keep one and send the
other document's links to the wrong page. Here the first input to claim a name
keeps it and later inputs get ``chap1-2`` (input number appended), and every
reference in that input — link annotations, outline items and pages, by
``/Dest`` or by a GoTo action in ``/A``, in an ``/AA`` trigger or further down
an action's ``/Next`` chain — is rewritten before its objects are copied. Both places a
PDF can define names are read: the ``/Names /Dests`` name tree (string keys)
and the PDF 1.1 ``/Root /Dests`` dictionary (name keys). The output has one
name tree with string keys, so every rewritten reference is a string.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from ..lookup import lookup

DestKey = tuple[bool, str]
"""``(is_legacy_name, name)``: a name object refers to ``/Root /Dests``, a string to the tree."""


def _dest_array(value: pikepdf.Object | None) -> pikepdf.Object | None:
    """The explicit destination array behind a named destination's value."""
    if isinstance(value, Dictionary):
        value = lookup(value, "/D")
    return value if isinstance(value, Array) and len(value) > 0 else None


def source_destinations(pdf: pikepdf.Pdf) -> dict[DestKey, pikepdf.Object]:
    """Every named destination ``pdf`` defines, keyed by how references spell it."""
    found: dict[DestKey, pikepdf.Object] = {}
    legacy = lookup(pdf.Root, "/Dests")
    if isinstance(legacy, Dictionary):
        for key, value in legacy.items():
            target = _dest_array(value)
            if target is not None:
                found[(True, str(key)[1:])] = target
    names = lookup(pdf.Root, "/Names")
    tree = lookup(names, "/Dests") if isinstance(names, Dictionary) else None
    if isinstance(tree, Dictionary):
        for tree_key, tree_value in pikepdf.NameTree(tree).items():
            target = _dest_array(tree_value)
            if target is not None:
                found[(False, str(tree_key))] = target
    return found


def _ref_key(ref: pikepdf.Object | None) -> DestKey | None:
    if isinstance(ref, Name):
        return (True, str(ref)[1:])
    if isinstance(ref, String):
        return (False, str(ref))
    return None


@dataclass
class DestinationNamespace:
    """The output's destination names: who claimed which, and what each input's names became."""

    taken: set[str] = field(default_factory=set)

    def claim(self, name: str, input_number: int) -> str:
        """A name unique in the output for ``name`` from input ``input_number`` (1-based)."""
        candidate = name
        suffix = 1
        while candidate in self.taken:
            candidate = f"{name}-{input_number}" + (f".{suffix}" if suffix > 1 else "")
            suffix += 1
        self.taken.add(candidate)
        return candidate


@dataclass
class InputDestinations:
    """One input's named destinations after namespacing: new name → explicit destination."""

    renames: dict[DestKey, str]
    targets: dict[str, pikepdf.Object]

    @property
    def changes_references(self) -> bool:
        """Whether any reference needs rewriting: a name was renamed or is a legacy name.

        When none does, the input's links and bookmarks are copied as they are,
        without walking them.
        """
        return any(legacy or new != name for (legacy, name), new in self.renames.items())

    def renamed(self, ref: pikepdf.Object | None) -> pikepdf.Object | None:
        """The namespaced name for destination ``ref``; None when the input defines no such name."""
        key = _ref_key(ref)
        return String(self.renames[key]) if key in self.renames else None

    def rewrite(self, holder: pikepdf.Object) -> None:
        """Point ``holder``'s ``/Dest`` and every GoTo action it triggers at namespaced names."""
        new_name = self.renamed(lookup(holder, "/Dest"))
        if new_name is not None:
            holder.Dest = new_name
        for action in goto_actions(holder):
            new_name = self.renamed(lookup(action, "/D"))
            if new_name is not None:
                action.D = new_name


def goto_actions(holder: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Every GoTo action ``holder`` can trigger: ``/A``, each ``/AA`` entry, and their ``/Next``.

    A ``/Next`` chain runs the actions after the first (a URI, then a GoTo);
    each indirect action is visited once, so a damaged chain that loops ends.
    """
    pending: list[pikepdf.Object] = []
    action = lookup(holder, "/A")
    if isinstance(action, Dictionary):
        pending.append(action)
    triggers = lookup(holder, "/AA")
    if isinstance(triggers, Dictionary):
        pending.extend(value for value in triggers.values() if isinstance(value, Dictionary))
    seen: set[tuple[int, int]] = set()
    while pending:
        action = pending.pop()
        if action.is_indirect:
            if action.objgen in seen:
                continue
            seen.add(action.objgen)
        if lookup(action, "/S") == Name.GoTo:
            yield action
        following = lookup(action, "/Next")
        if isinstance(following, Dictionary):
            pending.append(following)
        elif isinstance(following, Array):
            pending.extend(item for item in following if isinstance(item, Dictionary))


def namespace_destinations(
    pdf: pikepdf.Pdf, namespace: DestinationNamespace, input_number: int
) -> InputDestinations:
    """Claim output names for every destination ``pdf`` defines."""
    renames: dict[DestKey, str] = {}
    targets: dict[str, pikepdf.Object] = {}
    for key, target in source_destinations(pdf).items():
        new_name = namespace.claim(key[1], input_number)
        renames[key] = new_name
        targets[new_name] = target
    return InputDestinations(renames=renames, targets=targets)


def points_nowhere(holder: pikepdf.Object, lost_names: set[str]) -> bool:
    """Whether ``holder``'s destination (``/Dest`` or GoTo ``/A``) targets a page not copied."""
    dest = lookup(holder, "/Dest")
    if dest is None:
        action = lookup(holder, "/A")
        if isinstance(action, Dictionary) and action.get("/S") == Name.GoTo:
            dest = lookup(action, "/D")
    return destination_lost(dest, lost_names)


def destination_lost(dest: pikepdf.Object | None, lost_names: set[str]) -> bool:
    """Whether destination ``dest`` (as copied) targets a page that was not copied.

    Pages left out by a page range become null when their referrers are copied,
    so an explicit destination starting with null has lost its page; a named
    destination in ``lost_names`` was dropped for the same reason.
    """
    if isinstance(dest, String):
        return str(dest) in lost_names
    return isinstance(dest, Array) and len(dest) > 0 and dest[0] is None


def drop_lost_destination(holder: pikepdf.Object) -> None:
    """Remove a destination whose page was not copied (a link to nowhere is worse than none)."""
    if "/Dest" in holder:
        del holder.Dest
    elif "/A" in holder:
        del holder.A
