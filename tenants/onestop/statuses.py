"""The ten states of a dossier (docs: /work/shared/docs/onestop.md, "Dossier lifecycle"), each with its number in
the provincial systems, its label (in Vietnamese the official one) and what it means, together in one place.

The transitions between them live in ``services.py`` (``TRANSITIONS``); nothing else changes a dossier's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l, lazy_pgettext


@dataclass(frozen=True)
class Status:
    value: str  # stored in dossiers.status
    number: int  # the code provincial systems show (1-10)
    label: object  # the UI label, translated when shown: in Vietnamese the official one citizens know
    meaning: str  # what it means, for officers and the docs (translated)
    final: bool = False  # nothing happens after it
    clock_runs: bool = False  # the working-time clock counts toward the due time


REGISTERED = Status("registered", 1, lazy_pgettext("dossier status", "Registered"),
                    _l("Submitted online, waiting for reception"))
RECEIVED = Status("received", 2, lazy_pgettext("dossier status", "Received"), _l("Received, complete"),
                  clock_runs=True)
REFUSED = Status("refused", 3, lazy_pgettext("dossier status", "Not accepted"),
                 _l("Refused at reception, with a reason"), final=True)
PROCESSING = Status("processing", 4, lazy_pgettext("dossier status", "Processing"), _l("Being processed"),
                    clock_runs=True)
AWAITING_DOCUMENTS = Status("awaiting_documents", 5, lazy_pgettext("dossier status", "Additional documents requested"),
                            _l("Waiting for additional documents; the clock is stopped"))
AWAITING_FEE = Status("awaiting_fee", 6, lazy_pgettext("dossier status", "Fee to be paid"),
                      _l("Waiting for the fee to be paid"), clock_runs=True)
WITHDRAWN = Status("withdrawn", 7, lazy_pgettext("dossier status", "Withdrawn by the citizen"),
                   _l("Withdrawn at the citizen's request"), final=True)
STOPPED = Status("stopped", 8, lazy_pgettext("dossier status", "Processing stopped"),
                 _l("Processing stopped, with a reason"), final=True)
PROCESSED = Status("processed", 9, lazy_pgettext("dossier status", "Processed"), _l("Processed; the result is ready"))
RETURNED = Status("returned", 10, lazy_pgettext("dossier status", "Result returned"),
                  _l("Result returned to the citizen"), final=True)

ALL = (REGISTERED, RECEIVED, REFUSED, PROCESSING, AWAITING_DOCUMENTS, AWAITING_FEE, WITHDRAWN, STOPPED, PROCESSED,
       RETURNED)
BY_VALUE = {status.value: status for status in ALL}
VALUES = tuple(status.value for status in ALL)
#: Still to be handled by the office: counted in the work queue, due-soon and overdue marks.
OPEN = tuple(s.value for s in (RECEIVED, PROCESSING, AWAITING_DOCUMENTS, AWAITING_FEE))
#: The dossier is finished (processed, returned or ended otherwise): its on-time judgement is fixed.
FINISHED = tuple(s.value for s in (REFUSED, WITHDRAWN, STOPPED, PROCESSED, RETURNED))
#: A result was produced.
COMPLETED = (PROCESSED.value, RETURNED.value)

CHANNELS = ("counter", "online", "post")
CHANNEL_LABELS = {"counter": _l("At the counter"), "online": _l("Online"), "post": _l("By post")}

RATINGS = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS = {"very_satisfied": _l("Very satisfied"), "satisfied": _l("Satisfied"),
                 "unsatisfied": _l("Unsatisfied")}

FEE_METHODS = ("vietqr", "cash")


def get(value: str) -> Status:
    return BY_VALUE[value]
