"""The offline URL mirror: what a URL can name, and what it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdfbinder.compat import urlmap
from pdfbinder.compat.urlmap import UrlMap


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "h.example" / "docs").mkdir(parents=True)
    (root / "h.example" / "docs" / "a b.png").write_bytes(b"png")
    (root / "h.example" / "site").mkdir()
    (root / "h.example" / "site" / "index.html").write_bytes(b"<p>")
    (tmp_path / "secret.txt").write_bytes(b"outside the mirror")
    (root / "secret.txt").write_bytes(b"at the mirror's root, not a host")
    return root


def test_urls_name_files_under_their_host(mirror: Path) -> None:
    urls = UrlMap(mirror)
    found = urls.find("https://H.example/docs/a%20b.png?v=2")
    assert found is not None and (Path(found[0]).read_bytes(), found[1]) == (b"png", 3)
    index = urls.find("http://h.example/site/")
    assert index is not None and (Path(index[0]).read_bytes(), index[1]) == (b"<p>", 3)
    assert urls.find("https://h.example/docs/missing.png") is None
    assert urls.find("https://h.example/docs") is None  # a folder with no index.html
    assert urls.find("https://other.example/docs/a%20b.png") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/../secret.txt",
        "https://h.example/%2e%2e/secret.txt",
        "https://h.example/%2E%2E/%2E%2E/secret.txt",
        "https://h.example/docs/..%2f..%2fsecret.txt",
        "https://h.example/docs/%2e%2e%2f%2e%2e%2f..%2fsecret.txt",
        "https://../secret.txt",
        "https://./secret.txt",
        "https://h.example/docs/a%20b.png%00.txt",
        "file:///etc/passwd",
    ],
)
def test_no_url_steps_out_of_its_host_folder(mirror: Path, url: str) -> None:
    assert UrlMap(mirror).find(url) is None


def test_a_long_url_is_found_and_not_remembered(mirror: Path) -> None:
    """A URL past the remembered length (here by its query, which the mirror ignores) names
    its file as a short one does, and leaves nothing behind in the lookups' memory."""
    urls = UrlMap(mirror)
    remembered = urlmap._mirror_path.cache_info().currsize
    found = urls.find("https://h.example/docs/a%20b.png?token=" + "x" * 5000)
    assert found is not None and (Path(found[0]).read_bytes(), found[1]) == (b"png", 3)
    assert urls.find("https://h.example/%2e%2e/secret.txt?" + "x" * 5000) is None
    assert urlmap._mirror_path.cache_info().currsize == remembered
