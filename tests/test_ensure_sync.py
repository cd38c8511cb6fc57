"""GialamFlask remembers which hooks and views are plain functions (issue #17): its answer equals Flask's."""

from __future__ import annotations

import pytest
from flask import Flask


def _callables(app):
    for table in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
                  app.teardown_appcontext_funcs and {None: app.teardown_appcontext_funcs}):
        for funcs in (table or {}).values():
            yield from funcs
    yield from app.view_functions.values()


def test_remembered_answers_equal_flasks_for_every_hook_and_view(app):
    funcs = list(_callables(app))
    assert len(funcs) > 50
    for _ in range(2):  # the second time from memory
        for func in funcs:
            assert app.ensure_sync(func) is Flask.ensure_sync(app, func)


def test_a_coroutine_function_is_never_remembered_as_plain(app):
    async def view():  # pragma: no cover - never awaited
        return "x"

    for _ in range(2):
        try:
            wrapped = app.ensure_sync(view)
        except RuntimeError:  # asgiref is not installed: Flask refuses async views, each time
            continue
        assert wrapped is not view
    assert view not in app.__dict__.get("_known_sync", set())


def test_unhashable_callables_are_asked_each_time(app):
    class Unhashable(dict):
        def __call__(self):  # pragma: no cover
            return "x"

    func = Unhashable()
    with pytest.raises(TypeError):
        hash(func)
    assert app.ensure_sync(func) is func
