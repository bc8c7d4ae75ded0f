"""Signing and verifying replies with pyHanko (PAdES B-B), and drawing the seal and QR code.

The office signs with a PKCS#12 file. ``make_certificate`` makes a self-signed one for a new
instance: it proves that a PDF is unchanged since we signed it (integrity) and nothing more;
legal weight needs a certificate from a licensed CA, which the office imports in its place.

The visible signature is the seal, set over the signature and the date as GB/T 9704 §7.3.5 says
(centred on the date, the two lines a little below the seal's centre, its top within a line of
the text), with a QR code carrying the verification link at the left of the same block.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import segno
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext

from letters._errors import SigningError

MM = 72 / 25.4  # PDF points per millimetre
DPI = 300  # enough for a seal; 600 dpi costs ~250 ms a document for nothing visible
SEAL_MM, QR_MM = 40.0, 20.0
SEAL_RED = (230, 0, 18, 235)
SEAL_FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc")
FIELD = "HuiyinSignature"


@dataclass(frozen=True)
class Verification:
    """What a signed reply says about itself, read back from the PDF."""

    signed: bool
    intact: bool  # the bytes covered by the signature are unchanged
    valid: bool  # intact, the signature checks, it covers the whole file, and we trust the signer
    trusted: bool
    signer: str | None
    signed_at: str | None
    reason: str | None
    link: str | None
    error: str | None = None


def make_certificate(path: Path, passphrase: bytes, office_name: str, *,
                     years: int = 10) -> Path:
    """Write a self-signed PKCS#12 (RSA 2048, SHA-256) for the office; integrity only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(office_name)),
                      x509.NameAttribute(NameOID.COMMON_NAME,
                                         _fit(f"{office_name}（自签名）"))])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(
        b"huiyin", key, cert, None, serialization.BestAvailableEncryption(passphrase))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@functools.lru_cache(maxsize=4)
def _fit(text: str, limit: int = 64) -> str:
    """X.509 names hold at most 64 bytes of UTF-8: a long office name is cut, not refused."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _signer(path: Path, passphrase: bytes, mtime_ns: int) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=passphrase)
    if signer is None:
        raise SigningError(f"{path}: cannot load the certificate (wrong passphrase?)")
    return signer


def load_signer(path: Path, passphrase: bytes) -> signers.SimpleSigner:
    """Load (once) the office's PKCS#12 signer."""
    if not path.is_file():
        raise SigningError(f"{path}: no office certificate; run `huiyin init`")
    return _signer(path.resolve(), passphrase, path.stat().st_mtime_ns)


def certificate_of(path: Path, passphrase: bytes) -> asn1_x509.Certificate:
    """The office's certificate, the trust root verification checks signatures against."""
    cert = load_signer(path, passphrase).signing_cert
    assert cert is not None
    return cert


@functools.lru_cache(maxsize=8)
def seal_image(office_name: str) -> Image.Image:
    """Draw a round red seal (ring, star, name around the top) at 300 dpi; RGBA."""
    size = round(SEAL_MM / 25.4 * DPI)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ring = size * 0.03
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=SEAL_RED,
                 width=round(ring))
    c, r = size / 2, size * 0.15
    star = [(c + (r if i % 2 == 0 else r * 0.38) * math.sin(i * math.pi / 5),
             c - (r if i % 2 == 0 else r * 0.38) * math.cos(i * math.pi / 5)) for i in range(10)]
    draw.polygon(star, fill=SEAL_RED)
    font = ImageFont.truetype(str(SEAL_FONT), round(size * 0.12), index=0)
    text = office_name or "印"
    span = min(240.0, 22.0 * len(text))  # degrees of the arc the name takes
    radius = size / 2 - ring - size * 0.09
    for i, char in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)
        glyph = Image.new("RGBA", (round(size * 0.16),) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), char, font=font,
                                   fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        x = c + radius * math.sin(math.radians(angle)) - glyph.width / 2
        y = c - radius * math.cos(math.radians(angle)) - glyph.height / 2
        image.alpha_composite(glyph, (round(x), round(y)))
    return image


def load_seal(path: Path) -> Image.Image:
    """A scanned seal (PNG with transparency, or JPEG/PNG on white) as a 40 mm RGBA stamp.

    Without an alpha channel, white paper becomes transparent and the ink keeps its strength,
    so the seal does not hide the signature and date under it. Raise SigningError if unreadable.
    """
    try:
        stat = path.stat()
    except OSError as e:
        raise SigningError(f"{path}: no seal image: {e}") from e
    return _load_seal(path.resolve(), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=4)
def _load_seal(path: Path, mtime_ns: int, size: int) -> Image.Image:
    """Do the work of load_seal(); the stat values are only part of the cache key."""
    try:
        with Image.open(path) as opened:
            if opened.format not in ("PNG", "JPEG"):
                raise SigningError(f"{path.name}: a seal must be PNG or JPEG, not {opened.format}")
            has_alpha = opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info
            image = opened.convert("RGBA")
    except (OSError, Image.DecompressionBombError) as e:
        raise SigningError(f"{path.name}: not a readable image: {e}") from e
    if not has_alpha:
        # Alpha from darkness: paper (white) clears, red ink stays; colour kept as scanned.
        grey = image.convert("L")
        image.putalpha(grey.point(lambda v: 0 if v > 235 else min(255, (255 - v) * 2)))
    side = round(SEAL_MM / 25.4 * DPI)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.alpha_composite(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square


def _qr_image(link: str) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=1)
    side = round(QR_MM / 25.4 * DPI)
    return Image.open(buffer).convert("RGBA").resize((side, side), Image.Resampling.NEAREST)


@dataclass(frozen=True)
class _Block:
    """Where the signature block is on the last page, in mm from the top-left corner."""

    page_height: float
    name_top: float
    date_centre_x: float
    date_bottom: float


def _find_block(pdf: Path, date_text: str) -> _Block:
    """Find the last line holding the issue date (the date of the signature block)."""
    with pdfplumber.open(pdf) as document:
        page = document.pages[-1]
        lines: dict[float, list[dict[str, float | str]]] = {}
        for char in page.chars:
            lines.setdefault(round(float(char["top"]), 0), []).append(char)
        rows = sorted(lines.items())
        for i in range(len(rows) - 1, -1, -1):
            chars = rows[i][1]
            if date_text in "".join(str(c["text"]) for c in chars).replace(" ", ""):
                x0 = min(float(c["x0"]) for c in chars)
                x1 = max(float(c["x1"]) for c in chars)
                above = rows[i - 1][0] if i else rows[i][0] - 10.2 * MM
                return _Block(float(page.height) / MM, above / MM, (x0 + x1) / 2 / MM,
                              max(float(c["bottom"]) for c in chars) / MM)
    raise SigningError(f"{pdf.name}: no signature block with the date {date_text} on the last page")


def sign_pdf(pdf: Path, out: Path, *, p12: Path, passphrase: bytes, office_name: str,
             date_text: str, link: str, reason: str, seal: Path | None = None) -> Path:
    """Sign a reply (PAdES B-B), setting the seal over the signature block and the QR code.

    The seal is the office's scanned image when `seal` names one, else drawn from its name.
    """
    signer = load_signer(p12, passphrase)
    block = _find_block(pdf, date_text)
    stamp = load_seal(seal) if seal is not None else seal_image(office_name)
    qr = _qr_image(link)
    # The stamp spans the type area's width, from the seal's top to the seal's bottom.
    left, width = 28.0, 156.0
    centre_y = block.name_top  # signature and date sit just below the seal's centre
    top, bottom = centre_y - SEAL_MM / 2, max(centre_y + SEAL_MM / 2, block.date_bottom)
    px = DPI / 25.4
    canvas = Image.new("RGBA", (round(width * px), round((bottom - top) * px)), (0, 0, 0, 0))
    canvas.alpha_composite(qr, (0, canvas.height - qr.height))
    seal_x = round((block.date_centre_x - left - SEAL_MM / 2) * px)
    canvas.alpha_composite(stamp, (max(0, min(seal_x, canvas.width - stamp.width)), 0))
    box = (round(left * MM), round((block.page_height - bottom) * MM),
           round((left + width) * MM), round((block.page_height - top) * MM))
    style = StaticStampStyle(
        background=PdfImage(canvas), background_opacity=1.0, border_width=0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID,
            margins=Margins(0, 0, 0, 0),
            inner_content_scaling=InnerScaling.STRETCH_FILL))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=office_name, contact_info=link)
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style,
                                   new_field_spec=fields.SigFieldSpec(FIELD, on_page=-1, box=box))
    partial = out.with_name(f".{out.name}.part")
    try:
        with pdf.open("rb") as source, partial.open("wb") as target:
            pdf_signer.sign_pdf(IncrementalPdfFileWriter(source), output=target)
    except (HankoSigningError, ValueError, OSError) as e:
        partial.unlink(missing_ok=True)
        raise SigningError(f"{pdf.name}: signing failed: {e}") from e
    partial.replace(out)
    return out


def verify_pdf(data: bytes, trust_root: asn1_x509.Certificate) -> Verification:
    """Check a signed reply: intact, signature valid, covering the whole file, by our signer."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as e:  # noqa: BLE001 - any damage to the file means "not intact"
        return Verification(False, False, False, False, None, None, None, None,
                            f"not a readable PDF: {type(e).__name__}: {e}")
    if not signatures:
        return Verification(False, False, False, False, None, None, None, None,
                            "the PDF carries no signature")
    signature = signatures[-1]
    info = signature.sig_object
    reason = str(info.get("/Reason")) if "/Reason" in info else None
    link = str(info.get("/ContactInfo")) if "/ContactInfo" in info else None
    try:
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[trust_root], allow_fetching=False))
    except Exception as e:  # noqa: BLE001 - a damaged signature is an invalid one, not a crash
        return Verification(True, False, False, False, None, None, reason, link,
                            f"{type(e).__name__}: {e}")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    cert = status.signing_cert
    return Verification(
        signed=True, intact=bool(status.intact), trusted=bool(status.trusted),
        valid=bool(status.intact and status.valid and status.trusted and whole),
        signer=cert.subject.human_friendly if cert is not None else None,
        signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        reason=reason, link=link,
        error=None if whole else "the file was changed after it was signed")
