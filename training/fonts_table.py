"""Write the table of handwriting fonts the model is trained and validated on (for the model card).

    python -m training.fonts_table [--out models/handwritten/FONTS.md]

One row per family: where it comes from (npm @fontsource package or Debian package) with its
version, its licence, whether it is trained on or held out for synthetic validation, and which
of the French accents it lacks (lines for those fonts are drawn without accents).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

from training import fonts

ACCENTS = "éèàçêôÉ"
DEFAULT_OUT = Path("models/handwritten/FONTS.md")


def _debian_package(font_file: str) -> tuple[str, str]:
    """(package, version) that installed a font file."""
    pkg = subprocess.run(["dpkg", "-S", font_file], capture_output=True, text=True).stdout.split(":")[0]
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True).stdout
    return pkg or "?", version or "?"


def _debian_licence(package: str) -> str:
    """The licences of the font files (not the debian/ packaging) in a machine-readable copyright file."""
    path = Path("/usr/share/doc") / package / "copyright"
    found: list[str] = []
    if path.exists():
        for para in path.read_text(encoding="utf-8", errors="ignore").split("\n\n"):
            fields = dict(line.split(":", 1) for line in para.splitlines() if ":" in line and not line[0].isspace())
            if "Files" in fields and not fields["Files"].strip().startswith("debian/") and fields.get("License", "").strip():
                found.append(fields["License"].strip())
    if not found and path.exists():  # free-text copyright files
        text = path.read_text(encoding="utf-8", errors="ignore")
        if "Open Font License" in text:
            found.append("OFL-1.1")
        elif "General Public License" in text:
            found.append("GPL-2 with font exception" if "exception" in text else "GPL-2")
    return ", ".join(dict.fromkeys(found)) or f"see /usr/share/doc/{package}/copyright"


def rows() -> list[dict[str, str]]:
    validation = set(fonts.family_of(f) for f in fonts.handwriting_fonts("validation"))
    listed = {family: (version, licence) for family, version, licence in fonts.font_list()}
    out = []
    for family, files in sorted(fonts.by_family(fonts.handwriting_fonts("all")).items()):
        if family in listed:
            version, licence = listed[family]
            meta = json.loads((Path(files[0]).parent / "metadata.json").read_text())
            name, source = meta.get("family", family), f"npm @fontsource/{family}"
        else:
            source, version = _debian_package(files[0])
            name, licence, source = family, _debian_licence(source), f"Debian {source}"
        lacks = "".join(ch for ch in ACCENTS if ch not in fonts.charset(files[0]))
        out.append({"family": name, "source": source, "version": version, "licence": licence,
                    "use": "validation (held out)" if family in validation else "train",
                    "files": str(len(files)), "lacks": lacks or "-"})
    return out


def table(found: list[dict[str, str]]) -> str:
    n_val = sum(r["use"] != "train" for r in found)
    lines = [
        "# Handwriting fonts",
        "",
        f"Written by `python -m training.fonts_table`. {len(found)} families: {len(found) - n_val} rendered for "
        f"training, {n_val} held out for synthetic validation (`training/fonts.py` VALIDATION_FAMILIES). The npm "
        "families are pinned in `training/handwriting-fonts.tsv` and installed by `training/install-fonts.sh` "
        "(`./dev.sh setup`); the Debian ones by `training/apt-packages.txt`. Comic Neue and Havana (the dev-eval "
        "fonts) are never used. 'Lacks' lists the accents a font has no glyph for; its lines are drawn without them.",
        "",
        "| family | source | version | licence | use | files | lacks |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
    ]
    lines += [f"| {r['family']} | {r['source']} | {r['version']} | {r['licence']} | {r['use']} | {r['files']} | {r['lacks']} |"
              for r in found]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table(rows()), encoding="utf-8")
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
