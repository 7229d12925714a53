"""The provenance record (mentormatch.provenance), written beside the exports."""
from __future__ import annotations

import hashlib
import json

import pandas as pd

import mentormatch as mm


def test_provenance_json_names_inputs_hashes_rows_programme_versions_and_date(tmp_path):
    (tmp_path / "mentors.csv").write_text("id,capacity\nM1,1\nM2,2\n")
    (tmp_path / "mentees.csv").write_bytes("id,name\nE1,Zoë\nE2,Bo\nE3,Cy\n".encode("cp1252"))
    org = pd.DataFrame({"id": ["M1", "M2", "E1", "E2", "E3"], "manager_id": [None, None, "M1", "M2", "M2"]})
    result = mm.pair(tmp_path / "mentors.csv", tmp_path / "mentees.csv", {"seed": 3}, org=org)
    paths = result.to_csv(tmp_path / "out")
    assert paths["provenance"] == tmp_path / "out" / "provenance.json"
    doc = json.loads(paths["provenance"].read_text())
    by_table = {i["table"]: i for i in doc["inputs"]}
    for table, rows in (("mentors", 2), ("mentees", 3)):
        path = tmp_path / f"{table}.csv"
        assert by_table[table]["name"] == str(path)
        assert by_table[table]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert by_table[table]["rows"] == rows
    assert by_table["mentees"]["encoding"] == "cp1252"
    assert by_table["org"] == {"table": "org", "name": "<DataFrame>", "sha256": None, "rows": 5,
                               "encoding": None}
    assert doc["programme"]["seed"] == 3 and doc["programme"]["constraints"]["min_score"] is None
    assert {"python", "mentormatch", "numpy", "pandas", "scipy", "ortools"} <= set(doc["versions"])
    assert doc["created"].endswith("+00:00") and any("cp1252" in n for n in doc["notes"])


def test_assign_results_record_the_scores_shape(tmp_path):
    s = pd.DataFrame([[0.5, 0.2]], index=["e1"], columns=["m1", "m2"])
    record = mm.assign(s, pd.Series({"m1": 1, "m2": 1})).provenance()
    assert record.inputs == [{"table": "scores", "name": "<DataFrame>", "sha256": None, "rows": 1,
                              "columns": 2, "encoding": None}]
