import pytest
from helpers import SAMPLES

from appliance.errors import CorruptFileError, EmptyFileError, UnsupportedFileError
from appliance.knowledge.extraction import extract


def _text(blocks):
    return " ".join(b.text for b in blocks)


def test_markdown_keeps_sections():
    blocks = extract("it-security-policy.md", (SAMPLES / "it-security-policy.md").read_bytes())
    pw = [b for b in blocks if "14 characters" in b.text]
    assert pw and pw[0].section and "Password" in pw[0].section


def test_html_drops_script_and_keeps_headings():
    data = b"<html><body><h1>Policy</h1><script>alert(1)</script><h2>Retention</h2>" \
           b"<p>Records are kept for 8 years.</p><table><tr><td>CCTV</td><td>31 days</td></tr>" \
           b"</table></body></html>"
    blocks = extract("p.html", data)
    assert "alert" not in _text(blocks)
    assert blocks[0].section == "Policy > Retention"
    assert any(b.text == "CCTV | 31 days" for b in blocks)


def test_html_sample():
    blocks = extract("privacy-policy.html", (SAMPLES / "privacy-policy.html").read_bytes())
    assert "dpo@northbridge-general.example" in _text(blocks)


def test_pdf_keeps_page_numbers():
    blocks = extract("hr-leave-policy.pdf", (SAMPLES / "hr-leave-policy.pdf").read_bytes())
    pages = {b.page for b in blocks}
    assert pages >= {1, 2, 3}
    assert any("27 days" in b.text and b.page == 1 for b in blocks)
    assert any("52 weeks" in b.text and b.page == 3 for b in blocks)


def test_docx_headings_become_sections():
    blocks = extract("incident-response-procedure.docx",
                     (SAMPLES / "incident-response-procedure.docx").read_bytes())
    hot = [b for b in blocks if "4455" in b.text]
    assert hot and hot[0].section


@pytest.mark.parametrize("name,data,error,message", [
    ("a.exe", b"MZ....", UnsupportedFileError, "unsupported file type"),
    ("empty.txt", b"   \n", EmptyFileError, "empty"),
    ("bad.pdf", b"this is not a pdf at all", CorruptFileError, "not a PDF"),
    ("bad2.pdf", b"%PDF-1.4\n garbage garbage", CorruptFileError, "bad2.pdf"),
    ("bad.docx", b"PK\x03\x04 not really a zip", CorruptFileError, "Word document"),
    ("bin.txt", b"\x00\x01\x02binary", CorruptFileError, "binary"),
])
def test_bad_input_gets_a_clear_error(name, data, error, message):
    with pytest.raises(error, match=message):
        extract(name, data)
