"""Test helpers the apps' testing.py modules share (production packages never
import tests/, which is not shipped)."""

import io
import threading

from django.db import connection
from PIL import Image
from pypdf import PdfWriter

# --- committed rows from helper threads ---------------------------------------
# Tests that need COMMITTED rows (other connections cannot see a test's
# rolled-back transaction) write them from a helper thread on its own
# connection (autocommit); `transaction=True` would flush the public schema
# the session towns live in.


def in_own_connection(town, fn):
    """Run fn in a new thread, on its own connection to `town`'s schema (None:
    the public schema); autocommit: what it writes is committed and seen by
    other connections. Its exception, if any, is raised here."""

    out: dict = {}

    def run():
        try:
            if town is None:
                connection.set_schema_to_public()
            else:
                connection.set_tenant(town)
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            out["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def run_in_threads(town, fns):
    """Start every fn at once (a barrier), each in its own thread and connection
    to `town`'s schema; return their results in order (an exception is
    returned in place of its result, not raised)."""

    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)

    def run(i, fn):
        try:
            connection.set_tenant(town)
            connection.ensure_connection()  # connect first: the race is on the work
            barrier.wait(timeout=60)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "threads still running"
    return results


# --- real file bytes (uploads are parsed: core.uploads) ------------------------


def make_pdf(marker: str = "Attestation", pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": marker, "/Subject": marker})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_image(fmt: str = "PNG", size=(40, 30), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, (200, 30, 30))
    kwargs = {"exif": exif} if exif else {}
    img.save(out, fmt, **kwargs)
    return out.getvalue()
