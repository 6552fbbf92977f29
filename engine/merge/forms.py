"""Interactive form fields from every input, in one AcroForm: colliding names renamed or joined.

By default (``rename``) two inputs that both have a field ``name`` must not
become one field (typing into one would change the other), so a later input's
colliding top-level field is renamed (``name`` → ``name_2``) and the rename is
reported. Under ``join`` same-named fields become one field with one value, as
Acrobat does when it combines files: the later field's widgets become further
widgets of the first one (a field whose dictionary is also its widget is split
into a field and a widget for that), the first value wins (or the first one
given), check boxes and radio buttons show the kept value, and a text whose
widgets showed other values gets /NeedAppearances so viewers redraw it. Field
hierarchies are joined level by level. Fields of different types under one
name cannot be one field: those are renamed and reported as in ``rename``. Values (/V) and
appearances (/AP) travel with the field objects untouched. Form-level defaults
that fields inherit (/DA, /Q) are pushed down onto each input's top-level
fields before copying, because the output form has only one set of defaults;
default resources (/DR) are merged, ``NeedAppearances`` and ``SigFlags`` are
combined, and the calculation order (/CO) is concatenated. XFA data is dropped:
it describes one input's form and would override the merged AcroForm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from ..lookup import lookup

FieldPolicy = Literal["rename", "join"]
FIELD_POLICIES: tuple[FieldPolicy, ...] = ("rename", "join")

_INHERITED_DEFAULTS = ("/DA", "/Q")
# Entries of a field (not of its widget annotation), moved to the field when a
# dictionary that is both is split; /DA and /Q are copied, widgets may carry them too.
_FIELD_ONLY_KEYS = (
    "/FT", "/T", "/TU", "/TM", "/Ff", "/V", "/DV", "/Opt", "/MaxLen", "/TI", "/I", "/RV",
    "/DS", "/Lock", "/SV",
)  # fmt: skip
_RADIO, _PUSHBUTTON = 1 << 15, 1 << 16


def _widgets(top_field: pikepdf.Object) -> list[pikepdf.Object]:
    """The widget annotations of a field tree (its terminal nodes)."""
    found: list[pikepdf.Object] = []
    stack = [top_field]
    seen: set[tuple[int, int]] = set()
    while stack:
        node = stack.pop()
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        kids = lookup(node, "/Kids")
        if isinstance(kids, Array) and len(kids) > 0:
            stack.extend(kid for kid in kids if isinstance(kid, Dictionary))
        else:
            found.append(node)
    return found


def field_names(pdf: pikepdf.Pdf) -> list[str]:
    """The fully qualified names (``parent.child``) of the form's terminal fields."""
    acroform = lookup(pdf.Root, "/AcroForm")
    fields = lookup(acroform, "/Fields") if isinstance(acroform, Dictionary) else None
    if not isinstance(fields, Array):
        return []
    names: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[pikepdf.Object, str]] = [
        (top, "") for top in reversed(list(fields)) if isinstance(top, Dictionary)
    ]
    while stack:
        node, parent = stack.pop()
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        title = lookup(node, "/T")
        name = parent
        if isinstance(title, String):
            name = f"{parent}.{title}" if parent else str(title)
        kids = lookup(node, "/Kids")
        named_kids = (
            [kid for kid in kids if isinstance(kid, Dictionary) and "/T" in kid]
            if isinstance(kids, Array)
            else []
        )
        if named_kids:
            stack.extend((kid, name) for kid in reversed(named_kids))
        elif name:
            names.append(name)
    return names


@dataclass
class SourceForm:
    """One input's form, prepared for copying: its kept fields and form-level entries."""

    fields: list[pikepdf.Object]
    settings: pikepdf.Object
    """The AcroForm's entries other than /Fields and /XFA (a new direct dictionary)."""
    has_xfa: bool
    renamed: dict[str, str]


@dataclass
class FieldNamespace:
    """Top-level field names already used in the output."""

    taken: set[str] = field(default_factory=set)

    def claim(self, name: str) -> str:
        candidate, number = name, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{name}_{number}"
        self.taken.add(candidate)
        return candidate


def prepare_source_form(
    pdf: pikepdf.Pdf,
    namespace: FieldNamespace | None,
    copied_annotations: set[tuple[int, int]] | None,
) -> SourceForm | None:
    """Rename colliding fields in ``pdf`` (in memory) and pick the fields to copy.

    Without a ``namespace`` (the ``join`` policy) nothing is renamed here: the
    output's :class:`FormBuilder` joins or renames after the copy.

    ``copied_annotations`` (object ids of annotations on the selected pages) is
    given when a page range leaves pages out: a field with no widget on a
    copied page is not carried over.
    """
    acroform = lookup(pdf.Root, "/AcroForm")
    if not isinstance(acroform, Dictionary):
        return None
    fields = acroform.get("/Fields")
    if not isinstance(fields, Array):
        return None
    kept: list[pikepdf.Object] = []
    renamed: dict[str, str] = {}
    for top in fields:
        if not isinstance(top, Dictionary) or not top.is_indirect:
            continue
        if copied_annotations is not None and not any(
            widget.is_indirect and widget.objgen in copied_annotations for widget in _widgets(top)
        ):
            continue
        title = top.get("/T")
        if namespace is not None and isinstance(title, String):
            old = str(title)
            new = namespace.claim(old)
            if new != old:
                top.T = String(new)
                renamed[old] = new
        for key in _INHERITED_DEFAULTS:
            if key in acroform and key not in top:
                top[key] = acroform[key]
        kept.append(top)
    settings = Dictionary(
        {key: value for key, value in acroform.items() if key not in ("/Fields", "/XFA")}
    )
    return SourceForm(fields=kept, settings=settings, has_xfa="/XFA" in acroform, renamed=renamed)


class FormBuilder:
    """Accumulates the copied fields and form-level entries of every input."""

    def __init__(self, pdf: pikepdf.Pdf, policy: FieldPolicy = "rename") -> None:
        self.pdf = pdf
        self.policy = policy
        self.fields: list[pikepdf.Object] = []
        self._top_by_name: dict[str, int] = {}
        """Under ``join``: a top-level field's name → its index in :attr:`fields`."""
        self._names = FieldNamespace()
        self._replaced: dict[tuple[int, int], pikepdf.Object] = {}
        """Field objects that joining made into widgets → the field that stands for them."""
        self.joined_with_other_values: list[str] = []
        self.resources = Dictionary()
        self.calculation_order: list[pikepdf.Object] = []
        self.need_appearances = False
        self.sig_flags = 0
        self.default_appearance: pikepdf.Object | None = None
        self.dropped_xfa = False

    def add(
        self, copied_fields: pikepdf.Object, copied_acroform: pikepdf.Object, has_xfa: bool
    ) -> dict[str, str]:
        """Take one input's copied field list and copied AcroForm settings.

        Returns the renames made here (``join``: fields that could not be joined).
        """
        renamed: dict[str, str] = {}
        if self.policy == "join":
            for top in copied_fields:
                self._add_joined(top, renamed)
        else:
            self.fields.extend(copied_fields)
        self.need_appearances |= bool(lookup(copied_acroform, "/NeedAppearances", False))
        self.sig_flags |= int(lookup(copied_acroform, "/SigFlags", 0))
        self.dropped_xfa |= has_xfa
        if self.default_appearance is None and "/DA" in copied_acroform:
            self.default_appearance = copied_acroform.DA
        order = lookup(copied_acroform, "/CO")
        if isinstance(order, Array):
            self.calculation_order.extend(item for item in order if item is not None)
        resources = lookup(copied_acroform, "/DR")
        if isinstance(resources, Dictionary):
            self._merge_resources(resources)
        return renamed

    def _add_joined(self, top: pikepdf.Object, renamed: dict[str, str]) -> None:
        """Place one copied top-level field, joining it with an earlier one of its name."""
        title = top.get("/T")
        name = str(title) if isinstance(title, String) else None
        position = self._top_by_name.get(name) if name is not None else None
        if name is None or position is None:
            if name is not None:
                self._top_by_name[self._names.claim(name)] = len(self.fields)
            self.fields.append(top)
            return
        joined = self._join(self.fields[position], top)
        if joined is None:
            new = self._names.claim(name)
            top.T = String(new)
            renamed[name] = new
            self._top_by_name[new] = len(self.fields)
            self.fields.append(top)
        else:
            self.fields[position] = joined

    def _join(self, target: pikepdf.Object, incoming: pikepdf.Object) -> pikepdf.Object | None:
        """Make ``incoming`` part of ``target`` (same name); the field standing for both,
        or ``None`` when they cannot be one field (terminal vs. not, or other types)."""
        if _is_terminal(target) != _is_terminal(incoming):
            return None
        if not _is_terminal(target):
            self._join_children(target, incoming)
            return target
        if _kind(target) != _kind(incoming):
            return None
        other = incoming.get("/V")
        field = self._as_field_with_widgets(target)
        widgets = self._widgets_leaving(incoming, field)
        kids = field.Kids
        for widget in widgets:
            widget.Parent = field
            kids.append(widget)
        value = field.get("/V")
        if value is None and other is not None:
            field.V = other
            value = other
        if lookup(field, "/FT") == Name.Btn:
            for widget in kids:
                _show_state(widget, value)
        elif other is not None and other != value:
            self.need_appearances = True
            self.joined_with_other_values.append(str(field.get("/T", "")))
        return field

    def _join_children(self, target: pikepdf.Object, incoming: pikepdf.Object) -> None:
        """Join the child fields of two non-terminal fields of the same name, by name."""
        kids = target.Kids
        by_name: dict[str, int] = {}
        for position, kid in enumerate(kids):
            title = kid.get("/T") if isinstance(kid, Dictionary) else None
            if isinstance(title, String):
                by_name.setdefault(str(title), position)
        names = FieldNamespace(set(by_name))
        _push_down_type(target)
        _push_down_type(incoming)  # its children leave the parent they inherited it from
        for child in list(lookup(incoming, "/Kids", Array())):
            if not isinstance(child, Dictionary):
                continue
            title = child.get("/T")
            name = str(title) if isinstance(title, String) else None
            match = by_name.get(name) if name is not None else None
            joined = self._join(kids[match], child) if match is not None else None
            if match is not None and joined is not None:
                kids[match] = joined
                continue
            if name is not None and match is not None:
                child.T = String(names.claim(name))
            elif name is not None:
                by_name[names.claim(name)] = len(kids)
            child.Parent = target
            kids.append(child)

    def _as_field_with_widgets(self, node: pikepdf.Object) -> pikepdf.Object:
        """``node`` as a field whose widgets are its /Kids (split off when it is its own)."""
        if "/Kids" in node:
            return node
        field = self.pdf.make_indirect(Dictionary())
        for key in (*_FIELD_ONLY_KEYS, *_INHERITED_DEFAULTS):
            if key in node:
                field[key] = node[key]
                if key in _FIELD_ONLY_KEYS:
                    del node[key]
        if "/Parent" in node:
            field.Parent = node.Parent
        node.Parent = field
        field.Kids = Array([node])
        self._replaced[node.objgen] = field
        return field

    def _widgets_leaving(self, node: pikepdf.Object, field: pikepdf.Object) -> list[pikepdf.Object]:
        """The widgets of a terminal field that is joining ``field`` (its own entries dropped)."""
        self._replaced[node.objgen] = field
        kids = lookup(node, "/Kids")
        if isinstance(kids, Array) and len(kids) > 0:
            return [kid for kid in kids if isinstance(kid, Dictionary)]
        for key in _FIELD_ONLY_KEYS:
            if key in node:
                del node[key]
        return [node]

    def _merge_resources(self, resources: pikepdf.Object) -> None:
        """Add resource entries the output lacks; on a name clash the first input's wins."""
        for category, entries in resources.items():
            if not isinstance(entries, Dictionary):
                if category not in self.resources:
                    self.resources[category] = entries
                continue
            merged = self.resources.get(category)
            if not isinstance(merged, Dictionary):
                merged = Dictionary()
                self.resources[category] = merged
            for key, value in entries.items():
                if key not in merged:
                    merged[key] = value

    def finish(self) -> None:
        """Write the merged AcroForm into the output catalog (nothing without fields)."""
        if not self.fields:
            return
        form = Dictionary(Fields=Array(self.fields))
        if len(self.resources) > 0:
            form.DR = self.resources
        if self.default_appearance is not None:
            form.DA = self.default_appearance
        if self.need_appearances:
            form.NeedAppearances = True
        if self.sig_flags:
            form.SigFlags = self.sig_flags
        if self.calculation_order:
            order: list[pikepdf.Object] = []
            listed: set[tuple[int, int]] = set()
            for item in self.calculation_order:
                item = self._replaced.get(item.objgen, item) if item.is_indirect else item
                if item.is_indirect and item.objgen in listed:
                    continue  # two joined fields stand for one
                listed.add(item.objgen)
                order.append(item)
            form.CO = Array(order)
        self.pdf.Root.AcroForm = self.pdf.make_indirect(form)


def _is_terminal(node: pikepdf.Object) -> bool:
    """A terminal field has no child fields: no /Kids, or only widgets (no /T) in them."""
    kids = lookup(node, "/Kids")
    if not isinstance(kids, Array):
        return True
    return not any(isinstance(kid, Dictionary) and "/T" in kid for kid in kids)


def _push_down_type(parent: pikepdf.Object) -> None:
    """Give a non-terminal field's children the /FT they inherit, explicitly."""
    if "/FT" not in parent:
        return
    for child in lookup(parent, "/Kids", Array()):
        if isinstance(child, Dictionary) and "/FT" not in child:
            child.FT = parent.FT


def _kind(node: pikepdf.Object) -> tuple[str, int]:
    """A field's type: /FT, and for buttons whether it is a radio group or a push button."""
    flags = lookup(node, "/Ff", 0)
    flags = int(flags) if isinstance(flags, int) else 0
    return str(lookup(node, "/FT", "")), flags & (_RADIO | _PUSHBUTTON)


def _show_state(widget: pikepdf.Object, value: pikepdf.Object | None) -> None:
    """Show ``value`` on a check box or radio widget: its state of that name, else /Off."""
    appearance = lookup(widget, "/AP")
    normal = lookup(appearance, "/N") if isinstance(appearance, Dictionary) else None
    if not isinstance(normal, Dictionary):
        return
    states = set(normal.keys())
    wanted = str(value) if isinstance(value, Name) else "/Off"
    widget.AS = Name(wanted) if wanted in states else Name.Off
