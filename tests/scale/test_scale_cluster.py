"""A scaled-out deployment, every part real: Redis, two Celery workers, two API replicas, S3.

Proves that replicas share everything (jobs, files, presigned upload keys),
that the vendor's seed clients work against either replica, and that a
worker SIGKILLed mid-job has its job re-run to completion by the other.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image

from pdfbinder.compat.jobs.celery import QUEUE
from tests.support.compat import SEED_IMAGES, make_pdf, make_png, pdf_pages, poll_job
from tests.support.office import make_docx, page_texts, soffice_pids
from tests.support.origin import GatedOrigin
from tests.support.scale import Cluster, records
from tests.support.seeds import IMAGES_SEED, MERGE_SEED, run_seed, seed_code

HELD_PAGES = 3


def _gradient_bmp() -> bytes:
    """A 300×300 RGB BMP (Pillow writes 3780 px/m, ~96 dpi)."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((300, 300)).convert("RGB").save(buffer, "BMP")
    return buffer.getvalue()


@pytest.mark.parametrize("replica", [0, 1])
def test_seed_clients_complete_against_either_replica(
    cluster: Cluster, replica: int, tmp_path: Path
) -> None:
    url = cluster.replicas[replica].url
    images = tmp_path / "images"
    images.mkdir()
    output = run_seed(seed_code(IMAGES_SEED, url), images).stdout
    assert 'Result file saved as ".\\result.pdf" file.' in output, output
    assert pdf_pages((images / ".\\result.pdf").read_bytes()) == [(90.0, 67.5), (72.0, 108.0)]

    merge = tmp_path / "merge"
    merge.mkdir()
    (merge / ".\\sample1.pdf").write_bytes(make_pdf(2, width=200, height=100))
    (merge / ".\\sample2.pdf").write_bytes(make_pdf(3, width=300, height=400))
    output = run_seed(seed_code(MERGE_SEED, url), merge).stdout
    assert 'Result file saved as ".\\result.pdf" file.' in output, output
    pages = pdf_pages((merge / ".\\result.pdf").read_bytes())
    assert pages == [(200.0, 100.0)] * 2 + [(300.0, 400.0)] * 3


def test_job_submitted_on_one_replica_is_polled_and_downloaded_on_the_other(
    cluster: Cluster,
) -> None:
    first, second = (replica.url for replica in cluster.replicas)
    # A presigned URL made by A is accepted by B: the signing key is shared through Redis.
    presign = httpx.get(f"{first}/file/upload/get-presigned-url", params={"name": "a.pdf"}).json()
    put_on_second = presign["presignedUrl"].replace(first, second)
    assert httpx.put(put_on_second, content=make_pdf(2, width=150, height=250)).status_code == 200
    upload = httpx.post(
        f"{second}/file/upload", files={"file": ("red.png", make_png(80, 40))}
    ).json()

    job = httpx.get(
        f"{first}/pdf/merge2",
        params={"url": f"{presign['url']},{upload['url']}", "async": "true", "name": "both.pdf"},
    ).json()
    assert job["error"] is False, job
    done = poll_job(second, job["jobId"])
    assert done["status"] == "success" and done["pageCount"] == 3, done
    assert done["url"].startswith(second)  # answered for the replica that was asked
    body = httpx.get(done["url"]).content
    assert pdf_pages(body) == [(150.0, 250.0), (150.0, 250.0), (60.0, 30.0)]
    assert httpx.get(done["url"].replace(second, first)).content == body

    holder = records(cluster.redis.url).holder(job["jobId"])
    assert holder is not None and holder.attempts == 1
    assert holder.pid in {worker.pid for worker in cluster.workers}
    # The result lives in the S3 bucket, not on any replica's disk.
    objects = cluster.s3.client().list_objects_v2(Bucket="pdfbinder-test", Prefix="files/")
    assert f"files/{done['url'].split('/')[-2]}" in {item["Key"] for item in objects["Contents"]}


def test_delete_and_unknown_ids_agree_across_replicas(cluster: Cluster) -> None:
    first, second = (replica.url for replica in cluster.replicas)
    upload = httpx.post(f"{first}/file/upload", files={"file": ("x.pdf", make_pdf(1))}).json()
    deleted = httpx.post(f"{second}/file/delete", params={"url": upload["url"]}).json()
    assert deleted["status"] == 200
    assert httpx.get(upload["url"]).status_code == 404
    unknown = httpx.get(f"{second}/job/check", params={"jobid": "no-such-job"}).json()
    assert unknown["status"] == "unknown"


def test_office_documents_are_converted_by_the_workers(cluster: Cluster) -> None:
    """The workers own the LibreOffice pool; an API replica never starts one."""
    api = cluster.replicas[0].url
    upload = httpx.post(
        f"{api}/file/upload",
        files={"file": ("memo.docx", make_docx([("Worker memo", "converted by a worker")]))},
    ).json()
    job = httpx.get(
        f"{api}/pdf/merge2", params={"url": upload["url"], "async": "true", "name": "memo.pdf"}
    ).json()
    done = poll_job(api, job["jobId"], timeout=240)
    assert done["status"] == "success", done
    assert page_texts(httpx.get(done["url"]).content) == ["Worker memo converted by a worker"]
    holder = records(cluster.redis.url).holder(job["jobId"])
    assert holder is not None
    (worker,) = (worker for worker in cluster.workers if worker.pid == holder.pid)
    assert len(soffice_pids(worker.pid)) == 1
    assert all(soffice_pids(replica.pid) == set() for replica in cluster.replicas)


def test_a_workers_progress_is_answered_by_the_other_replica(cluster: Cluster) -> None:
    """The worker writes its progress to Redis; a replica that never saw the job reads it."""
    late = make_png(50, 40)
    first = f"https://{SEED_IMAGES}/image1.png"  # from the URL mirror, at once
    with GatedOrigin({"late.png": late}) as origin:
        job = httpx.get(
            f"{cluster.replicas[0].url}/pdf/convert/from/image",
            params={"url": f"{first},{origin.url_of('late.png')}", "async": "true"},
        ).json()
        origin.wait_for_requests(1)  # the worker read input 1 and is fetching input 2
        check_url = f"{cluster.replicas[1].url}/job/check"
        deadline = time.monotonic() + 30
        while True:
            check = httpx.get(check_url, params={"jobid": job["jobId"]}).json()
            if check.get("currentInput", {}).get("index") == 1:
                break
            assert time.monotonic() < deadline, check
            time.sleep(0.05)
        assert check["status"] == "working" and check["progress"] == 0
        assert check["currentInput"] == {"index": 1, "name": "late.png"}
        origin.release()
        done = poll_job(cluster.replicas[1].url, job["jobId"], timeout=60)
    assert done["status"] == "success" and done["progress"] == 100
    assert done["provenance"]["inputs"][1] == {
        "index": 1,
        "name": "late.png",
        "size": len(late),
        "sha256": hashlib.sha256(late).hexdigest(),
    }
    assert done["provenance"]["pages"] == [
        {"output": [1, 1], "input": 0, "pages": [1, 1]},
        {"output": [2, 2], "input": 1, "pages": [1, 1]},
    ]


def test_sigkill_of_a_worker_mid_job_reruns_it_on_the_other(cluster: Cluster) -> None:
    """Runs last in the module: it leaves one worker dead."""
    api = cluster.replicas[0].url
    jobs = records(cluster.redis.url)
    with GatedOrigin({"gradient.bmp": _gradient_bmp()}) as origin:
        job = httpx.get(
            f"{api}/pdf/convert/from/image",
            params={
                "url": ",".join([origin.url_of("gradient.bmp")] * HELD_PAGES),
                "async": "true",
                "name": "held.pdf",
            },
        ).json()
        job_id = job["jobId"]
        origin.wait_for_requests(1)  # a worker claimed the job and is fetching its sources
        holder = jobs.holder(job_id)
        assert holder is not None, "the fetching worker holds no claim"
        record = jobs.get(job_id)
        assert record is not None, "the job has no record"
        assert record.state.value == "working"
        (victim,) = [worker for worker in cluster.workers if worker.pid == holder.pid]
        (survivor,) = [worker for worker in cluster.workers if worker is not victim]
        victim.kill()
        origin.release()

        done = poll_job(cluster.replicas[1].url, job_id, timeout=60)
        assert done["status"] == "success", done
        assert done["pageCount"] == HELD_PAGES
        rerun = jobs.holder(job_id)
        assert rerun is not None and rerun.pid == survivor.pid and rerun.attempts == 2
        pages = pdf_pages(httpx.get(done["url"]).content)
        # 300 px at Pillow's BMP resolution (3780 px/m, ~96 dpi): ~225 pt a side.
        assert pages == [pytest.approx((224.97, 224.97), abs=0.1)] * HELD_PAGES

        # Nothing is left working: no record, no queued or unacknowledged message.
        assert jobs.working_jobs() == []
        broker = redis.Redis.from_url(cluster.redis.url)
        assert broker.llen(QUEUE) == 0 and broker.hlen("unacked") == 0
        assert survivor.alive()
