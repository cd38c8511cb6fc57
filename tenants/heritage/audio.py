"""Audio guides are checked by their content, whatever the file is called: mutagen must read the upload as MP3,
Ogg (Vorbis or Opus), MP4/M4A (AAC) or WAV and find a playing time in it. Anything else is refused with a message
that names the accepted kinds, and nothing is stored."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.errors import ValidationError

MAX_BYTES = 20 * 1024 * 1024
MAX_SECONDS = 30 * 60


@dataclass(frozen=True)
class Recording:
    name: str  # content hash, the storage key's last part
    mimetype: str
    seconds: int
    data: bytes


def _kinds():
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    return {MP3: "audio/mpeg", OggVorbis: "audio/ogg", OggOpus: "audio/ogg", MP4: "audio/mp4", WAVE: "audio/wav"}


def check(data: bytes) -> Recording:
    """The upload as a recording to store; ValidationError when it is empty, too large or not accepted audio."""
    import mutagen

    if not data:
        raise ValidationError(_l("Choose an audio file."), field="audio")
    if len(data) > MAX_BYTES:
        raise ValidationError(_l("The recording is too large (20 MB at most)."), field="audio")
    kinds = _kinds()
    refused = ValidationError(_l("This file is not a recording we can play. Upload an MP3, M4A (AAC), Ogg or WAV "
                                 "file."), field="audio")
    try:
        found = mutagen.File(io.BytesIO(data), options=list(kinds))
    except Exception:  # mutagen raises its own errors, and struct/value errors on a damaged file
        raise refused from None
    seconds = getattr(getattr(found, "info", None), "length", 0) or 0
    if found is None or seconds <= 0:
        raise refused
    if seconds > MAX_SECONDS:
        raise ValidationError(_l("The recording is too long (30 minutes at most)."), field="audio")
    name = hashlib.sha256(data).hexdigest()[:24]
    return Recording(name, kinds[type(found)], max(1, round(seconds)), data)
