"""An uploaded audience file on the pages: too large is a message, never a server error;
the report of a CSV campaign neutralises formulas that came in the file."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging.campaigns import services
from tests.campaigns.factories import ADMIN, campaign, citizen, started

COLUMNS = {
    "var_1": {"source": "column", "value": "first_name"},
    "var_2": {"source": "column", "value": "day"},
}


def test_an_oversized_upload_is_a_message_next_to_the_field(admin_client, number, approved):
    draft = campaign(number, approved, mapping={})
    big = SimpleUploadedFile(
        "list.csv",
        b"phone\n" + b"+15125550100\n" * (services.MAX_UPLOAD_BYTES // 13 + 1),
        content_type="text/csv",
    )
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]), {"source": "csv", "csv_file": big}
    )
    assert response.status_code == 200
    assert 'id="id_csv_file_error"' in response.text
    assert "larger than 20 MB" in response.text


def test_the_report_neutralises_formulas_that_came_in_the_file(
    supervisor_client, agency_a, number, approved
):
    citizen(agency_a, wa_id="15125550100")
    text = (
        "phone,first_name,day\n+15125550100,Ana,Monday\n"
        '"=HYPERLINK(""http://x"",""y"")",A,B\n@SUM(A1:A2),B,C\n-2+3,C,D\n'
    )
    result = services.upload_audience_csv(actor=ADMIN, agency=agency_a, file=text.encode())
    assert result.upload is not None, result.error
    c = started(
        campaign(
            number,
            approved,
            audience={"source": "csv", "upload_id": result.upload.pk},
            mapping=COLUMNS,
        )
    )
    response = supervisor_client.get(reverse("campaigns:report", args=[c.pk]))
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[2] for row in table[1:]] == [
        "'+15125550100",
        '\'=HYPERLINK("http://x","y")',
        "'@SUM(A1:A2)",
        "'-2+3",
    ]
    cells = [cell for row in table[1:] for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
