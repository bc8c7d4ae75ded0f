"""A fontconfig file that maps the Windows font names kept in the .docx to installed fonts.

Templates name the fonts the office's Word has (仿宋_GB2312, 方正小标宋简体, 宋体, 黑体,
楷体_GB2312).
On the server these resolve, through this file (given to LibreOffice as ``FONTCONFIG_FILE``), to
the Fandol fonts of Debian's texlive-lang-chinese (the only free 仿宋) and to Noto CJK, which also
supplies the characters Fandol lacks (GB2312 only: 喆 堃 珺 昇 fall back to Noto Serif CJK SC).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

FANDOL_DIR = Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol")
FALLBACK = "Noto Serif CJK SC"
# Windows name -> (installed family, weight or None).
MAPPING: dict[str, tuple[str, str | None]] = {
    "仿宋_GB2312": ("FandolFang", None),
    "仿宋": ("FandolFang", None),
    "FangSong": ("FandolFang", None),
    "方正小标宋简体": ("Noto Serif CJK SC", "bold"),
    "方正小标宋_GBK": ("Noto Serif CJK SC", "bold"),
    "宋体": ("FandolSong", None),
    "SimSun": ("FandolSong", None),
    "黑体": ("FandolHei", None),
    "SimHei": ("FandolHei", None),
    "楷体_GB2312": ("FandolKai", None),
    "楷体": ("FandolKai", None),
    "KaiTi": ("FandolKai", None),
}


def fontconfig_xml(cache_dir: Path) -> str:
    """The text of the fonts.conf: system fonts, Fandol, our names, a cache of our own."""
    rules = []
    for family in ("FandolSong", "FandolHei"):
        # Fandol's Bold files declare a normal weight; without this, plain text may come out bold.
        rules.append(
            f'<match target="scan"><test name="family"><string>{family}</string></test>'
            '<test name="style"><string>Bold</string></test>'
            '<edit name="weight" mode="assign"><const>bold</const></edit></match>')
    for name, (family, weight) in MAPPING.items():
        edits = (f'<edit name="family" mode="prepend" binding="strong"><string>{family}</string>'
                 f'<string>{FALLBACK}</string></edit>')
        if weight:
            edits += f'<edit name="weight" mode="assign"><const>{weight}</const></edit>'
        rules.append(f'<match target="pattern"><test name="family"><string>{escape(name)}'
                     f'</string></test>{edits}</match>')
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
            f'<dir>{FANDOL_DIR}</dir>\n<cachedir>{escape(str(cache_dir))}</cachedir>\n'
            + "\n".join(rules) + "\n</fontconfig>\n")


def fontconfig_file(folder: Path) -> Path:
    """Write (when changed) folder/fonts.conf and return it; its cache lives beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fonts.conf"
    text = fontconfig_xml(folder / "fc-cache")
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def missing_fonts() -> list[str]:
    """Say which font packages are absent, so a conversion can refuse instead of falling back."""
    missing = []
    if not (FANDOL_DIR / "FandolFang-Regular.otf").is_file():
        missing.append("texlive-lang-chinese (Fandol 仿宋/宋/黑/楷)")
    if not list(Path("/usr/share/fonts").glob("opentype/noto/NotoSerifCJK-*.ttc")):
        missing.append("fonts-noto-cjk (Noto Serif CJK SC)")
    return missing
