"""Notice rules. Queries here carry no tenant filter: the scoping mechanism adds it (tenants/scoping.py).
Services flush; the boundary commits (app/transactions.py)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.text import normalize
from tenants.notices.models import Notice


def published(limit: int = 10) -> list[Notice]:
    query = select(Notice).where(Notice.published.is_(True)).order_by(Notice.created_at.desc(), Notice.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def recent(limit: int = 50) -> list[Notice]:
    return list(db.session.scalars(select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)))


def recent_count_subquery(limit: int = 5):
    """``len(recent(limit))`` as a scalar subquery (the desk's count, read with its other counts)."""
    return select(func.count()).select_from(select(Notice.id).limit(limit).subquery()).scalar_subquery()


def get(notice_id: int) -> Notice:
    # A query, not Session.get: the identity map must never hand back a row the scoping would filter out.
    notice = db.session.scalar(select(Notice).where(Notice.id == notice_id))
    if notice is None:
        raise NotFound(_l("No such notice."))
    return notice


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = normalize(title), normalize(body)
    if not title:
        raise ValidationError(_l("Enter a title."), field="title")
    if len(title) > 200:
        raise ValidationError(_l("The title is too long (200 characters at most)."), field="title")
    return title, body


def create(author, title: str, body: str, published: bool = True) -> Notice:
    title, body = _clean(title, body)
    notice = Notice(title=title, body=body, published=published, author_id=author.id if author else None)
    db.session.add(notice)
    db.session.flush()
    return notice


def update(notice_id: int, title: str, body: str, published: bool) -> Notice:
    notice = get(notice_id)
    notice.title, notice.body = _clean(title, body)
    notice.published = published
    db.session.flush()
    return notice


def delete(notice_id: int) -> None:
    db.session.delete(get(notice_id))
    db.session.flush()
