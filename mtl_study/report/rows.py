"""Name table rows from the variant columns of trials.parquet, in SPEC 7 order.

A row is what a reader of the paper recognises ("COVID-MTL w/ Shift3D (volume)"), derived from
`model`, `tasks`, `inputs`, `shift3d`, `afnn` and `transfer`, never from a study's free-form
variant name. When several variants map to one name (two losses, two Dirichlet draw counts),
the attributes that differ are appended, so no two variants are ever averaged together.
"""

from __future__ import annotations

import math

import pandas as pd

#: Canonical rows in the order of the paper's tables (SPEC 7).
ROW_ORDER: tuple[str, ...] = (
    "RF",
    "LGBM",
    "AFNN",
    "ResNet3D",
    "SqueezeNet3D",
    "ShiftNet3D",
    "COVID-MTL (features)",
    "COVID-MTL w/o Shift3D (volume)",
    "COVID-MTL w/o Shift3D (volume+features)",
    "COVID-MTL w/ Shift3D (volume)",
    "COVID-MTL w/ Shift3D (volume+features)",
    "COVID-MTL (transfer)",
)

_SINGLE_TASK = {
    "random_forest": "RF",
    "rf": "RF",
    "lightgbm": "LGBM",
    "lgbm": "LGBM",
    "afnn": "AFNN",
    "resnet3d": "ResNet3D",
    "resnet3d_34": "ResNet3D",
    "resnet3d34": "ResNet3D",
    "squeezenet3d": "SqueezeNet3D",
    "shiftnet3d": "ShiftNet3D",
}

#: Variant attributes that may tell two variants with one canonical name apart, in display order.
QUALIFIERS: tuple[str, ...] = ("loss", "dirichlet_n", "max_shift", "transfer", "inputs")


def _flag(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def row_name(record: dict | pd.Series) -> str:
    """The SPEC 7 row name of one trial.

    Multi-task models (more than one task, or a model whose name mentions "mtl") are COVID-MTL
    variants; single-task models keep the baseline name, with SqueezeNet3D + Shift3D shown as
    ShiftNet3D.
    """
    model = as_text(record.get("model")).lower().replace("-", "_")
    tasks = [t for t in as_text(record.get("tasks")).split(",") if t]
    inputs = as_text(record.get("inputs")).lower()
    shift = _flag(record.get("shift3d"))
    if as_text(record.get("transfer")):
        return "COVID-MTL (transfer)"
    if model in ("random_forest", "rf", "lightgbm", "lgbm", "afnn"):
        return _SINGLE_TASK[model]
    if "mtl" in model or len(tasks) > 1:
        if inputs == "features":
            return "COVID-MTL (features)"
        kind = "volume+features" if inputs == "both" or _flag(record.get("afnn")) else "volume"
        return f"COVID-MTL {'w/' if shift else 'w/o'} Shift3D ({kind})"
    if model == "squeezenet3d" and shift:
        return "ShiftNet3D"
    return _SINGLE_TASK.get(model, as_text(record.get("model")) or "unknown")


def row_rank(name: str) -> tuple[int, str]:
    """Sort key that puts rows in SPEC 7 order, unknown ones after, qualified ones by name."""
    for i, base in enumerate(ROW_ORDER):
        if name == base or name.startswith(base + " ["):
            return (i, name)
    return (len(ROW_ORDER), name)


def qualifier(column: str, value: object) -> str:
    text = as_text(value)
    if column == "transfer":
        return {"keep": "Shift3D kept", "remove": "Shift3D removed"}.get(text, text)
    if column == "dirichlet_n":
        return f"n={int(float(text))}" if text else "n=—"
    if column == "max_shift":
        return f"p={float(text):g}" if text else "p=—"
    return text or "—"


def distinct(values: pd.Series) -> int:
    """Distinct non-empty values: a NaN `dirichlet_n` means "not applicable", not a variant."""
    return values.map(as_text).replace("", pd.NA).dropna().nunique()


def describe(record: pd.Series, columns: list[str]) -> str:
    """Comma-joined qualifiers of the applicable (non-empty) attributes."""
    return ", ".join(qualifier(c, record[c]) for c in columns if as_text(record[c]))


def add_row_names(trials: pd.DataFrame) -> pd.DataFrame:
    """Return `trials` with a `row` column: the canonical name plus the differing attributes.

    Search-stage and failed trials keep the bare canonical name: they feed no comparison cell.
    """
    out = trials.copy()
    if out.empty:
        out["row"] = pd.Series(dtype=str)
        return out
    base = out.apply(row_name, axis=1)
    out["row"] = base
    present = [c for c in QUALIFIERS if c in out.columns]
    stage = out["stage"] if "stage" in out.columns else pd.Series("main", index=out.index)
    reported = stage != "search"
    if "status" in out.columns:  # failed trials feed no cell, so they must not split a row
        reported &= out["status"] == "TERMINATED"
    for name in base[reported].unique():
        mask = reported & (base == name)
        sub = out.loc[mask]
        varying = [c for c in present if distinct(sub[c]) > 1]
        if "variant" in sub.columns:
            keys = sub[varying].map(as_text).agg("|".join, axis=1) if varying else None
            n_variants = sub["variant"].nunique()
            if n_variants > 1 and (keys is None or keys.nunique() < n_variants):
                varying.append("variant")
        if not varying:
            continue
        labels = sub.apply(lambda r, cols=varying: describe(r, cols), axis=1)
        out.loc[mask, "row"] = name + " [" + labels + "]"
    return out
