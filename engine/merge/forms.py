"""Interactive form fields from every input, in one AcroForm, with colliding names renamed.

Two inputs that both have a field ``name`` must not become one field (typing
into one would change the other), so a later input's colliding top-level field
is renamed (``name`` → ``name_2``) and the rename is reported. Values (/V) and
appearances (/AP) travel with the field objects untouched. Form-level defaults
that fields inherit (/DA, /Q) are pushed down onto each input's top-level
fields before copying, because the output form has only one set of defaults;
default resources (/DR) are merged, ``NeedAppearances`` and ``SigFlags`` are
combined, and the calculation order (/CO) is concatenated. XFA data is dropped:
it describes one input's form and would override the merged AcroForm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, String

from ..lookup import lookup

_INHERITED_DEFAULTS = ("/DA", "/Q")


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
    namespace: FieldNamespace,
    copied_annotations: set[tuple[int, int]] | None,
) -> SourceForm | None:
    """Rename colliding fields in ``pdf`` (in memory) and pick the fields to copy.

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
        if isinstance(title, String):
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

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.fields: list[pikepdf.Object] = []
        self.resources = Dictionary()
        self.calculation_order: list[pikepdf.Object] = []
        self.need_appearances = False
        self.sig_flags = 0
        self.default_appearance: pikepdf.Object | None = None
        self.dropped_xfa = False

    def add(
        self, copied_fields: pikepdf.Object, copied_acroform: pikepdf.Object, has_xfa: bool
    ) -> None:
        """Take one input's copied field list and copied AcroForm settings."""
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
            form.CO = Array(self.calculation_order)
        self.pdf.Root.AcroForm = self.pdf.make_indirect(form)
