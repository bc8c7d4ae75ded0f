"""A reply's pages as pictures, shown as a letter's scan is: masked for the roles that do not
work with whole numbers (letter_view.sees_full_ids), the original for the others, audited.

A reply repeats what the letter said (a summary, the facts found), ID numbers included; the
picture of its page must not show a handler what the letter's page hides.
"""

from __future__ import annotations

from web.services.access import SignedIn
from web.services.instance import Instance
from web.services.letter_view import record_read, sees_full_ids, visible_reply
from web.services.reply_preview import page_images


def shown_reply_page(instance: Instance, reader: SignedIn, reply_id: int,
                     number: int) -> bytes | None:
    """Page ``number`` of a reply (its signed PDF once there is one) as a PNG for this reader;
    None when there is no such page. LetterNotFound when the reply is not the reader's to see."""
    with instance.db.session() as session:
        reply, _ = visible_reply(session, reader, reply_id)
        shown = reply.signed_pdf_sha256 or reply.pdf_sha256
    if shown is None or not instance.blobs.exists(shown):
        return None
    full = sees_full_ids(reader)
    images = page_images(instance.blobs.path(shown), [number], masked=not full)
    if not images:
        return None
    record_read(instance, reader, "reply", reply_id, via="page-image", page=number,
                masked=not full)
    return images[0]
