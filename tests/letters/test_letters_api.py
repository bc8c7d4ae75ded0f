"""The public face of letters: exported names, the registry, required fields, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import letters
from letters import TemplateError, required_fields, template_names

ACKNOWLEDGEMENT_FIELDS = {
    "office_name", "doc_number", "petitioner_name", "received_date", "reg_no", "summary",
    "handling_unit", "issue_date", "contact_phone", "query_code", "query_url", "office_period",
}
BUILT_IN = Path(letters.__file__).parent / "templates" / "acknowledgement.docx"


def test_exported_members_are_the_documented_ones() -> None:
    assert sorted(letters.__all__) == sorted([
        "ColdConverter", "ConversionError", "Converter", "DocumentError", "LettersError",
        "Measurement", "SigningError", "TemplateError", "Verification", "WarmConverter",
        "certificate_of", "cn_date", "convert_to_pdf", "docx_text", "load_seal", "make_certificate",
        "measure_layout", "render_docx", "required_fields", "sample_context", "seal_image",
        "sign_pdf",
        "template_names",
        "template_title", "template_version", "verify_pdf",
    ])
    for name in letters.__all__:
        assert getattr(letters, name).__module__.startswith("letters")


def test_errors_share_one_base() -> None:
    assert issubclass(letters.TemplateError, letters.LettersError)
    assert issubclass(letters.DocumentError, letters.LettersError)
    assert issubclass(letters.ConversionError, letters.LettersError)
    assert issubclass(letters.SigningError, letters.LettersError)


def test_builtin_templates_are_listed() -> None:
    assert "acknowledgement" in template_names()


def test_required_fields_of_acknowledgement() -> None:
    assert required_fields("acknowledgement") == ACKNOWLEDGEMENT_FIELDS


def test_required_fields_of_a_template_file() -> None:
    assert required_fields(BUILT_IN) == ACKNOWLEDGEMENT_FIELDS


def test_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(TemplateError, match=r"unknown template 'nope'.*acknowledgement"):
        required_fields("nope")


@pytest.mark.parametrize("name", ["../templates/acknowledgement", "a/b", "~$acknowledgement", ""])
def test_template_names_cannot_be_paths(name: str) -> None:
    with pytest.raises(TemplateError, match="invalid template name"):
        required_fields(name)


def test_missing_template_file() -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        required_fields(Path("/nonexistent/x.docx"))


def test_a_file_that_is_not_a_docx(tmp_path: Path) -> None:
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"%PDF-1.7 not a docx")
    with pytest.raises(TemplateError, match="fake.docx.*not a Word .docx document"):
        required_fields(fake)


def test_office_folder_adds_and_overrides_templates(tmp_path: Path) -> None:
    shutil.copy(BUILT_IN, tmp_path / "acknowledgement.docx")
    shutil.copy(BUILT_IN, tmp_path / "transfer_notice.docx")
    shutil.copy(BUILT_IN, tmp_path / "office_own.docx")
    (tmp_path / "~$ansfer_notice.docx").write_bytes(b"Word lock file")
    (tmp_path / "notes.txt").write_text("not a template")
    assert template_names(tmp_path) == sorted([*template_names(), "office_own"])
    assert required_fields("transfer_notice", tmp_path) == ACKNOWLEDGEMENT_FIELDS
    assert required_fields("office_own", tmp_path) == ACKNOWLEDGEMENT_FIELDS
    with pytest.raises(TemplateError, match="unknown template 'office_own'"):
        required_fields("office_own")


def test_docx_text_of_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(letters.DocumentError, match="broken.docx"):
        letters.docx_text(broken)
    with pytest.raises(letters.DocumentError, match="no such file"):
        letters.docx_text(tmp_path / "absent.docx")


@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_with_the_sample_values(tmp_path: Path, name: str) -> None:
    """What an upload check renders a template with is accepted by every built-in one."""
    out = letters.render_docx(name, letters.sample_context(required_fields(name)),
                              tmp_path / "sample.docx")
    assert "示例" in letters.docx_text(out)
