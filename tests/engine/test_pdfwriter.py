"""The streaming writer's PDF syntax, read back by qpdf (through pikepdf)."""

from __future__ import annotations

import io

import pikepdf

from pdfbinder.engine.images.pdfwriter import Name, PdfStreamWriter, Ref, serialize


def test_names_are_written_as_they_are_unless_a_byte_needs_escaping() -> None:
    assert serialize(Name("DeviceRGB")) == b"/DeviceRGB"
    assert serialize(Name("A B#/é")) == b"/A#20B#23#2F#C3#A9"
    assert serialize({"Type": Name("Page"), "Ké y": 1}) == b"<< /Type /Page /K#C3#A9#20y 1 >>"


def test_every_kind_of_value_reads_back_as_written() -> None:
    buffer = io.BytesIO()
    writer = PdfStreamWriter(buffer)
    pages = writer.reserve()
    catalog = writer.write_object({"Type": Name("Catalog"), "Pages": Ref(pages)})
    writer.write_object(
        {
            "Type": Name("Pages"),
            "Kids": [],
            "Count": 0,
            "Odd Name(#)": Name("x/y z"),
            "Numbers": [1, -2, 0.5, 2.0, 1 / 3],
            "Flags": [True, False, None],
            "Text": "a (b) \\ c\n",
            "Unicode": "Grüße",
            "Hex": b"\x00\xff",
        },
        pages,
    )
    writer.finish(catalog, None)
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as pdf:
        tree = pdf.Root.Pages
        assert tree["/Odd Name(#)"] == pikepdf.Name("/x/y z")
        assert [float(number) for number in tree.Numbers] == [1, -2, 0.5, 2, 0.333333]
        assert list(tree.Flags) == [True, False, None]
        assert str(tree.Text) == "a (b) \\ c\n"
        assert str(tree.Unicode) == "Grüße"
        assert bytes(tree.Hex) == b"\x00\xff"
