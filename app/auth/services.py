"""Account rules: authentication, passwords, staff accounts of a commune, commune admins of the district. Services
flush; the boundary (app/transactions.py) commits."""

from __future__ import annotations

from datetime import datetime, timezone

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.auth.models import STAFF_ROLES, Membership, User
from app.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    is_common,
    needs_rehash,
    verify_password,
)
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import mobile_number, normalize


def normalize_email(email: str) -> str:
    email = normalize(email).lower()
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid email address."), field="email") from None


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize(email).lower()))


def sign_in_key(identifier: str | None) -> str:
    """What the login form's one field names, written one way: an e-mail address in lower case, or a Vietnamese
    mobile number as app.text.clean_phone writes it ("+84 912.345.678" is "0912345678"). The sign-in looks the user
    up by it and the throttle counts failures per key, so the ways of writing one number are one identifier."""
    identifier = normalize(identifier)
    if "@" not in identifier:
        phone = mobile_number(identifier)
        if phone is not None:
            return phone
    return identifier.lower()


def get_user_by_sign_in(identifier: str | None) -> User | None:
    """The user who signs in with this e-mail address or mobile number (#19), if any."""
    key = sign_in_key(identifier)
    if not key:
        return None
    column = User.email if "@" in key else User.login_phone
    return db.session.scalar(select(User).where(column == key))


def phone_for_sign_in(phone: str | None) -> str:
    """A mobile number a new account signs in with: checked, written one way, and no other user's (#19)."""
    number = mobile_number(phone)
    if number is None:
        raise ValidationError(_l("Without an email address, the phone number must be a Vietnamese mobile number "
                                 "of 10 digits, like 0912 345 678: it is what they sign in with."), field="phone")
    if db.session.scalar(select(User.id).where(User.login_phone == number)) is not None:
        raise Conflict(_l("An account already signs in with this phone number."), field="phone")
    return number


def authenticate(identifier: str, password: str) -> User | None:
    """The active user who signs in with this e-mail address or mobile number and this password, or None; constant
    work whether or not the account exists."""
    user = get_user_by_sign_in(identifier or "")
    if user is None:
        verify_password(dummy_hash(), password or "")
        return None
    if not verify_password(user.password_hash, password or "") or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(timezone.utc)
    return user


def _check_new_password(password: str, confirm: str | None = None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(_l("The password must have at least 8 characters."), field="password")
    if is_common(password):
        raise ValidationError(_l("This password is one of the most commonly used: choose another one."),
                              field="password")
    if confirm is not None and password != confirm:
        raise ValidationError(_l("The two passwords do not match."), field="confirm")


def create_user(email: str, name: str, password: str, phone: str | None = None) -> User:
    email = normalize_email(email)
    name = normalize(name)
    if not name:
        raise ValidationError(_l("Enter a name."), field="name")
    _check_new_password(password)
    if get_user_by_email(email) is not None:
        raise Conflict(_l("An account with this email already exists."), field="email")
    user = User(email=email, name=name, phone=normalize(phone) or None, password_hash=hash_password(password))
    db.session.add(user)
    return user


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session and "remember me" cookie issued so far stops working (the user
    loader compares the version they carry). Atomic, so two concurrent bumps both count."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    user.session_version = db.session.scalar(select(User.session_version).where(User.id == user.id))


def load_session_user(user_id: str) -> User | None:
    """The user a session or cookie names as "<id>.<session version>", if that version is still current."""
    ident, _, version = (user_id or "").partition(".")
    if not (ident.isdecimal() and version.isdecimal()) or len(ident) > 18 or len(version) > 18:
        return None
    user = db.session.get(User, int(ident))
    if user is None or user.session_version != int(version):
        return None
    return user


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Change the password and sign out every other session (the caller signs the current one in again)."""
    if not verify_password(user.password_hash, current or ""):
        raise ValidationError(_l("The current password is wrong."), field="current_password")
    set_password(user, new, confirm)


def confirm_password(user: User, given: str | None) -> None:
    """The password asked again before changing where money goes (a receiving account, an API key; issue 16, item
    16): a stolen session alone cannot redirect a stall's takings. Wrong answers count against the account like the
    password-change form's (app/auth/throttle.py)."""
    from app.auth import throttle

    if throttle.password_change_refused(user.id):
        raise ValidationError(_l("Too many wrong passwords: try again in a few minutes."), field="password")
    if not verify_password(user.password_hash, given or ""):
        throttle.password_change_failed(user.id)
        raise ValidationError(_l("Give your password again to confirm this change."), field="password")


def set_password(user: User, password: str, confirm: str | None = None) -> None:
    """Every way a password is set ends here (issue 16, item 11): checked (length, not a common one), hashed, and
    every session and "remember me" cookie issued so far is signed out. The caller signs the current one in again
    through ``sessions.start``."""
    _check_new_password(password, confirm)
    user.password_hash = hash_password(password)
    end_sessions(user)


def add_staff(tenant, role: str, email: str, name: str, password: str, phone: str | None = None) -> User:
    """A new commune admin or officer account of ``tenant``; the caller has checked the actor's rights."""
    if role not in STAFF_ROLES:
        raise ValidationError(_l("Unknown role."), field="role")
    user = create_user(email, name, password, phone)
    user.memberships.append(Membership(tenant_id=tenant.id, role=role))
    db.session.flush()
    return user


def staff_of(tenant, role: str | None = None) -> list[tuple[User, str]]:
    """The staff of one commune: its admins and officers, not its vendors and producers, who hold a membership too
    (explicitly filtered: memberships are read before a tenant is known)."""
    query = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant.id, Membership.role.in_(STAFF_ROLES))
        .order_by(Membership.role, User.name)
    )
    if role:
        query = query.where(Membership.role == role)
    return [(user, r) for user, r in db.session.execute(query)]


def staff_count(tenant) -> int:
    """``len(staff_of(tenant))`` counted in SQL (the desk prints the number; issue #17): one row per staff
    membership, as staff_of lists them."""
    return db.session.scalar(_staff_count_select(tenant))


def staff_count_subquery(tenant):
    """``staff_count`` as a scalar subquery (the desk reads it with its other counts in one statement)."""
    return _staff_count_select(tenant).scalar_subquery()


def _staff_count_select(tenant):
    return (select(func.count()).select_from(Membership).join(User, Membership.user_id == User.id)
            .where(Membership.tenant_id == tenant.id, Membership.role.in_(STAFF_ROLES)))


def get_staff_member(tenant, user_id: int, role: str) -> User:
    """A user with ``role`` in ``tenant``; any other user, including one of another commune, is NotFound."""
    user = db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.tenant_id == tenant.id, Membership.role == role)
    )
    if user is None:
        raise NotFound(_l("No such account in this commune."))
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    if user.id == actor.id:
        raise ValidationError(_l("You cannot deactivate your own account."))
    user.active = active
    if not active:
        end_sessions(user)
    db.session.flush()


def commune_admins() -> list[tuple[User, Membership]]:
    query = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == "commune_admin")
        .order_by(Membership.tenant_id, User.name)
    )
    return [(u, m) for u, m in db.session.execute(query)]


def commune_admin_counts() -> dict[int, int]:
    """Commune admins per commune id: one grouped count, no list loaded to count it."""
    query = (select(Membership.tenant_id, func.count()).where(Membership.role == "commune_admin")
             .group_by(Membership.tenant_id))
    return {tenant_id: count for tenant_id, count in db.session.execute(query)}
