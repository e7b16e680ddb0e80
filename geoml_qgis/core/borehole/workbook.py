"""Excel workbooks (openpyxl), written atomically."""
from __future__ import annotations

import os
from typing import Mapping

import pandas as pd

from ..deps import require
from ..errors import GeoMLError
from ..io.atomic import atomic_path


def write_workbook(path: str | os.PathLike, sheets: Mapping[str, pd.DataFrame]) -> None:
    """One sheet per table (names cut to Excel's 31 characters), to a temp file then renamed."""
    require("openpyxl", "writing Excel workbooks")
    if not str(path).lower().endswith(".xlsx"):
        raise GeoMLError(f"The workbook must be an .xlsx file; got '{os.path.basename(str(path))}'.")
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, df in sheets.items():
                df.to_excel(writer, sheet_name=str(name)[:31], index=False)


def clustering_sheets(outcome) -> dict[str, pd.DataFrame]:
    """The clustering workbook: samples, cluster summaries, k selection (all and per hole),
    continuity and the cleaning log."""
    sel = outcome.selection.table.copy()
    sel["chosen"] = sel["k"] == outcome.k
    s = outcome.selection
    votes = pd.DataFrame([{"criterion": c, "best_k": k} for c, k in s.votes.items()]
                         + [{"criterion": "used", "best_k": outcome.k},
                            {"criterion": f"runner-up ({s.method})", "best_k": s.runner_up},
                            {"criterion": f"confidence ({s.method})", "best_k": round(s.confidence, 3)},
                            {"criterion": "evidence", "best_k": s.evidence}])
    sheets = {
        "samples": outcome.sample_frame(),
        "cluster_summary": outcome.summary,
        "k_selection": sel,
        "k_votes": votes,
        "k_per_hole": outcome.per_hole,
        "continuity": pd.concat([c.to_frame() for c in outcome.continuity], ignore_index=True)
        if outcome.continuity else pd.DataFrame(),
        "cleaning": outcome.samples.log.counts,
        "notes": pd.DataFrame({"note": outcome.notes}),
    }
    return sheets
