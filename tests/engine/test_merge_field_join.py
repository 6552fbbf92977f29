"""``fields="join"``: same-named form fields of different inputs become one field with one
value (as Acrobat combines files), checked on the raw AcroForm: /Fields, /Kids, /Parent, /V."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Name

from pdfbinder.engine import merge_pdfs
from tests.support.merge_samples import form_pdf
from tests.support.qpdf import qpdf_check


def merged_form(tmp_path: Path, fields: str, *, second_city_check_box: bool = False) -> pikepdf.Pdf:
    first = form_pdf(tmp_path / "a.pdf", "Alice", agreed=True)
    second = form_pdf(
        tmp_path / "b.pdf", "Bob", agreed=False, city_as_check_box=second_city_check_box
    )
    output = tmp_path / f"{fields}.pdf"
    merge_pdfs([first, second], output, fields=fields)
    qpdf_check(output)
    return pikepdf.open(output)


def _by_name(fields: pikepdf.Object) -> dict[str, pikepdf.Object]:
    return {str(field.T): field for field in fields}


def test_join_makes_one_field_per_name_with_the_first_value(tmp_path: Path) -> None:
    with merged_form(tmp_path, "join") as pdf:
        fields = _by_name(pdf.Root.AcroForm.Fields)
        assert set(fields) == {"name", "agree", "address"}

        name = fields["name"]
        assert str(name.FT) == "/Tx" and str(name.V) == "Alice"
        widgets = list(name.Kids)
        assert len(widgets) == 2
        assert [w.P.objgen for w in widgets] == [p.obj.objgen for p in pdf.pages]
        assert all(w.Parent.objgen == name.objgen for w in widgets)
        assert all("/T" not in w and "/V" not in w for w in widgets)
        assert pdf.Root.AcroForm.NeedAppearances is True  # "Bob"'s widget must be redrawn


def test_join_shows_the_kept_value_on_every_check_box(tmp_path: Path) -> None:
    with merged_form(tmp_path, "join") as pdf:
        agree = _by_name(pdf.Root.AcroForm.Fields)["agree"]
        assert str(agree.V) == "/Yes"
        assert [w.AS for w in agree.Kids] == [Name.Yes, Name.Yes]


def test_join_merges_hierarchies_level_by_level(tmp_path: Path) -> None:
    with merged_form(tmp_path, "join") as pdf:
        address = _by_name(pdf.Root.AcroForm.Fields)["address"]
        (city,) = address.Kids
        assert str(city.T) == "city" and str(city.V) == "Alice town"
        assert city.Parent.objgen == address.objgen
        assert len(city.Kids) == 2
        assert all(w.Parent.objgen == city.objgen for w in city.Kids)


def test_fields_of_other_types_are_renamed_not_joined(tmp_path: Path) -> None:
    with merged_form(tmp_path, "join", second_city_check_box=True) as pdf:
        address = _by_name(pdf.Root.AcroForm.Fields)["address"]
        kids = _by_name(address.Kids)
        assert set(kids) == {"city", "city_2"}
        assert [str(kids["city"].FT), str(kids["city_2"].FT)] == ["/Tx", "/Btn"]


def test_rename_stays_the_default(tmp_path: Path) -> None:
    with merged_form(tmp_path, "rename") as pdf:
        names = sorted(str(field.T) for field in pdf.Root.AcroForm.Fields)
        assert names == ["address", "address_2", "agree", "agree_2", "name", "name_2"]
