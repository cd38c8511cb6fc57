"""CSV exports: Vietnamese survives Excel, and no cell can run as a formula."""

import csv
import io

from app.exports import csv_response, csv_text


def test_cells_that_would_run_as_formulas_are_escaped_and_numbers_are_kept():
    text = csv_text(["Tên", "Số tiền"], [["=HYPERLINK(\"http://x\")", 125000], ["+84 912", -5], ["@SUM(A1)", 0],
                                        ["-1+2", 1], ["Gốm Bát Tràng", 2]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "125000"]
    assert rows[2] == ["'+84 912", "-5"]
    assert rows[3][0] == "'@SUM(A1)" and rows[4][0] == "'-1+2"
    assert rows[5] == ["Gốm Bát Tràng", "2"]


def test_the_response_is_a_utf8_download_with_a_bom(app):
    with app.test_request_context():
        response = csv_response("sổ bán hàng.csv", ["Tên"], [["Đường"]])
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and "Đường".encode() in body
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''s%E1%BB%95%20b%C3%A1n%20h%C3%A0ng.csv" in response.headers["Content-Disposition"]
