"""Office and text documents → PDF through a supervised pool of headless LibreOffice processes.

``detect`` recognises the documents, ``pool`` runs LibreOffice (``driver``
is the script each LibreOffice process is driven by), ``convert`` is the
call merge makes. Import the submodule you need: nothing here starts, or
imports, the pool until a document is converted.
"""
