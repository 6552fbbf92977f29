"""``pdfbinder demo``: the whole product once, on built-in samples, with no set-up.

It draws three sample images, converts them with the engine, then does what
the PDF.co sample clients do against the embedded server (in-process job
runner, SQLite job records, local file store, all in a temporary directory):
presigned uploads, an async merge, polling ``/job/check``, and the download.
A new user sees every part work in a few seconds, offline.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import engine_errors, fail

if TYPE_CHECKING:
    import httpx

_POLL_SECONDS = 0.2
_POLL_LIMIT_SECONDS = 60.0


def draw_samples(folder: Path) -> list[Path]:
    """A photo-like JPEG, a screenshot-like PNG and a transparent PNG."""
    from PIL import Image, ImageDraw

    photo = Image.linear_gradient("L").resize((1200, 800)).convert("RGB")
    ImageDraw.Draw(photo).ellipse((400, 200, 800, 600), fill=(220, 120, 40))
    screenshot = Image.new("RGB", (1280, 720), "white")
    draw = ImageDraw.Draw(screenshot)
    for row in range(8):
        draw.rectangle((40, 40 + row * 80, 1240, 100 + row * 80), outline="navy", width=3)
    badge = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    ImageDraw.Draw(badge).ellipse((50, 50, 550, 550), fill=(30, 140, 60, 180))
    paths = [folder / "photo.jpg", folder / "screenshot.png", folder / "badge.png"]
    photo.save(paths[0], quality=90, dpi=(150, 150))
    screenshot.save(paths[1])
    badge.save(paths[2])
    return paths


def upload(client: httpx.Client, path: Path) -> str:
    """The sample clients' two-step upload: ask for a presigned URL, PUT the bytes."""
    answer = client.get(
        "/file/upload/get-presigned-url",
        params={"name": path.name, "contenttype": "application/pdf"},
    ).json()
    client.put(answer["presignedUrl"], content=path.read_bytes()).raise_for_status()
    return str(answer["url"])


def merge_async(client: httpx.Client, urls: list[str], name: str) -> str:
    """Start an async merge, poll until it ends, and return the result URL."""
    started = client.get(
        "/pdf/merge", params={"async": "true", "name": name, "url": ",".join(urls)}
    ).json()
    if started["error"]:
        fail(f"merge refused: {started['message']}")
    deadline = time.monotonic() + _POLL_LIMIT_SECONDS
    while time.monotonic() < deadline:
        check = client.get("/job/check", params={"jobid": started["jobId"]}).json()
        if check["status"] == "success":
            return str(started["url"])
        if check["status"] != "working":
            fail(f"merge job ended {check['status']}: {check.get('message', '')}")
        time.sleep(_POLL_SECONDS)
    fail("merge job did not finish in time")


def demo(
    output: Path = typer.Option(
        Path("demo.pdf"), "-o", "--output", help="Where to save the result."
    ),
) -> None:
    """Convert and merge built-in samples through the embedded server → OUTPUT."""
    # Loaded here, not at import: every other command would pay for the server and engine.
    import httpx

    from pdfbinder.compat.app import create_app
    from pdfbinder.compat.settings import Settings
    from pdfbinder.compat.testing.background import BackgroundServer
    from pdfbinder.engine import images_to_pdf

    with tempfile.TemporaryDirectory(prefix="pdfbinder-demo-") as scratch:
        folder = Path(scratch)
        images = draw_samples(folder)
        with engine_errors():
            photos = images_to_pdf(images[:1], folder / "photo.pdf")
            graphics = images_to_pdf(images[1:], folder / "graphics.pdf")
        typer.echo(
            f"engine: {len(images)} images → {photos.page_count + graphics.page_count} "
            "pages, losslessly"
        )

        settings = Settings(data_dir=folder / "data", workers=2)
        server = BackgroundServer(create_app(settings))
        server.start()
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                urls = [upload(client, folder / name) for name in ("photo.pdf", "graphics.pdf")]
                typer.echo(f"server: uploaded 2 files to {server.base_url} (presigned URLs)")
                result_url = merge_async(client, urls, output.name)
                response = client.get(result_url)
                response.raise_for_status()
        finally:
            server.stop()
    output.write_bytes(response.content)
    typer.echo(f"server: async merge finished; saved {output} ({len(response.content):,} bytes)")
