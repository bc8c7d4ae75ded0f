"""The services' refusals: one tree, each message in Chinese and safe to show the user.

The pages, the API and the command line catch ``ServiceError`` (and the packages' own errors:
records.RecordsError, letters.LettersError, ocr.OcrError, search.SearchError) and show the
message; anything else is a bug::

    ServiceError
    ├── ActionError          (case_actions) an action on a case refused
    │   ├── NotAllowed       this role does not take the action (HTTP 403)
    │   └── StaleCase        the case changed since the caller looked (HTTP 409)
    ├── ReviewError          (review) a letter's check refused
    │   └── ReviewConflict   the letter changed since the clerk opened it (HTTP 409)
    ├── ReplyError           (replies) a reply cannot be made, signed or delivered as asked
    ├── AdminError           (admin) a change to users, units or tables refused
    ├── BackupError          (backup) a backup or restore cannot go on
    ├── PageImageError       (page_images) a page cannot be drawn
    └── DateError            (dates) a date a person typed cannot be used (also a ValueError)
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the services refuse; the message says why, for the user."""


class ReplyError(ServiceError):
    """A reply cannot be produced, signed or delivered as asked."""
