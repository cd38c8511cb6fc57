"""The tenant's slug is added to the URLs of a commune's pages; which endpoints expect it is remembered per endpoint
(issue #17): every remembered answer equals the URL map's, and the URLs built are the same."""

from __future__ import annotations

from flask import g, url_for

from tests.test_no_500 import SAMPLE_VALUES


def test_every_endpoint_remembered_as_the_url_map_answers(app, make):
    tenant = make.tenant("xa-a")
    memo = app.extensions["endpoints_expecting_tenant"]
    with app.test_request_context("/c/xa-a/"):
        g.tenant = tenant
        for rule in app.url_map.iter_rules():
            values = {k: SAMPLE_VALUES.get(k, "x") for k in rule.arguments if k != "tenant_slug"}
            first = url_for(rule.endpoint, **values)
            again = url_for(rule.endpoint, **values)  # from the memo
            assert first == again
            expected = app.url_map.is_endpoint_expecting(rule.endpoint, "tenant_slug")
            assert memo[rule.endpoint] == expected, rule.endpoint
            if "tenant_slug" in rule.arguments:
                assert "/xa-a/" in first, (rule.endpoint, first)
        assert url_for("communes.home", tenant_slug="xa-b") == "/c/xa-b/"  # an explicit slug wins
        assert url_for("marketplace.index") == "/marketplace/"
    assert any(memo.values()) and not all(memo.values())
