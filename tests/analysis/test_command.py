"""The ``analyse`` management command: the contract the product is checked against.

Card and Krueger (1994) is validated through the command itself, as a user would run it.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

REPO = Path(__file__).resolve().parents[2]
CARD_KRUEGER = Path("/work/shared/refdata/card-krueger")
if not CARD_KRUEGER.exists():  # the repository may be checked out next to shared/
    CARD_KRUEGER = REPO.parent / "shared" / "refdata" / "card-krueger"


def run_cli(*args):
    """Run the command in a subprocess, as a user would, to see real exit codes and stderr."""
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, str(REPO / "manage.py"), "analyse", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def call(*args):
    out = io.StringIO()
    call_command("analyse", *args, stdout=out)
    return out.getvalue()


def card_krueger_long():
    """Long CSV for the did command: Card and Krueger's balanced sample of 384 stores (75 PA, 309 NJ).

    Following the refdata README: columns named by the codebook, "." missing, FTE = EMPFT + NMGRS +
    0.5 * EMPPT per wave, stores closed permanently at wave 2 (STATUS2 == 3) have FTE 0 at wave 2, and
    only stores with FTE in both waves are kept.
    """
    names = []
    for line in (CARD_KRUEGER / "codebook").read_text(encoding="latin-1").splitlines():
        parts = line.split()
        # variable lines look like "NAME  start  end  format  explanation"
        if len(parts) >= 4 and parts[0].isupper() and parts[1].isdigit() and parts[2].isdigit():
            names.append(parts[0])
    data = pd.read_csv(CARD_KRUEGER / "public.dat", sep=r"\s+", header=None, names=names, na_values=".")
    fte1 = data.EMPFT + data.NMGRS + 0.5 * data.EMPPT
    fte2 = (data.EMPFT2 + data.NMGRS2 + 0.5 * data.EMPPT2).where(data.STATUS2 != 3, 0.0)
    keep = fte1.notna() & fte2.notna()
    data, fte1, fte2 = data[keep], fte1[keep], fte2[keep]
    # SHEET 407 is used by two different stores (one in each state), so the unit id adds the state.
    store = data.STATE.astype(int).astype(str) + "-" + data.SHEET.astype(int).astype(str)
    first = np.where(data.STATE == 1, 1, 0)
    return pd.concat(
        [
            pd.DataFrame({"store": store, "wave": 0, "fte": fte1, "first_treated": first}),
            pd.DataFrame({"store": store, "wave": 1, "fte": fte2, "first_treated": first}),
        ]
    )


@pytest.fixture
def card_krueger_csv(tmp_path):
    path = tmp_path / "card_krueger_long.csv"
    card_krueger_long().to_csv(path, index=False)
    return path


def test_card_krueger_through_the_did_command(card_krueger_csv):
    result = run_cli(
        "did",
        "--input",
        str(card_krueger_csv),
        "--unit",
        "store",
        "--time",
        "wave",
        "--outcome",
        "fte",
        "--first-treated",
        "first_treated",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # Source: Card and Krueger (1994) Table 3, balanced sample: 384 stores (75 PA, 309 NJ);
    # DiD 2.75 (SE 1.34); change in mean FTE PA -2.28 (SE 1.25), NJ +0.47 (SE 0.48). Tolerance: 2 decimals.
    assert out["n_units"] == 384
    simple = out["aggregations"]["simple"]
    assert simple["att"] == pytest.approx(2.75, abs=0.005)
    assert simple["se"] == pytest.approx(1.34, abs=0.005)
    for name in ("group", "dynamic"):
        assert out["aggregations"][name]["att"] == pytest.approx(2.75, abs=0.005)
    (cell,) = out["att_gt"]
    assert (cell["group"], cell["time"], cell["n_treated"], cell["n_comparison"]) == (1, 1, 309, 75)
    assert cell["comparison_change"] == pytest.approx(-2.28, abs=0.005)
    assert cell["comparison_change_se"] == pytest.approx(1.25, abs=0.005)
    assert cell["treated_change"] == pytest.approx(0.47, abs=0.005)
    assert cell["treated_change_se"] == pytest.approx(0.48, abs=0.005)
    assert out["event_study"][0]["event_time"] == 0
    assert "Traceback" not in result.stderr


def test_paired_json_keys_and_values(tmp_path):
    path = tmp_path / "sleep.csv"
    pd.DataFrame(
        {
            "id": range(1, 11),
            "drug2": [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4],
            "drug1": [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0],
        }
    ).to_csv(path, index=False)
    out = json.loads(call("paired", "--input", str(path), "--before", "drug2", "--after", "drug1"))
    for key in [
        "n",
        "mean_before",
        "mean_after",
        "mean_diff",
        "ci_low",
        "ci_high",
        "t",
        "df",
        "p",
        "wilcoxon_statistic",
        "wilcoxon_p",
        "d_z",
        "d_z_ci_low",
        "d_z_ci_high",
        "g_av",
    ]:
        assert key in out, key
    assert out["t"] == pytest.approx(-4.0621, abs=5e-5)  # R t.test(extra ~ group, sleep, paired = TRUE)
    assert "fell" in out["verdict"]


def test_text_format(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("pre,post\n1,2\n2,4\n3,3\n4,6\n")
    text = call("paired", "--input", str(path), "--before", "pre", "--after", "post", "--format", "text")
    assert "mean_diff: 1.250" in text
    assert "95% CI" in text


def test_agreement_and_reliability_commands(tmp_path):
    ratings = tmp_path / "ratings.csv"
    rows = ["referral,auditor,grade"]
    grid = [[1, 1], [2, 2], [3, 2], [4, 4], [2, 2], [3, 3], [1, 2], [4, 3]]
    for i, pair in enumerate(grid):
        rows += [f"r{i},anna,{pair[0]}", f"r{i},bo,{pair[1]}"]
    ratings.write_text("\n".join(rows) + "\n")
    out = json.loads(
        call(
            "agreement",
            "--input",
            str(ratings),
            "--unit",
            "referral",
            "--rater",
            "auditor",
            "--rating",
            "grade",
            "--level",
            "ordinal",
        )
    )
    for key in [
        "n_units",
        "n_raters",
        "cohen_kappa",
        "weighted_kappa_linear",
        "weighted_kappa_quadratic",
        "fleiss_kappa",
        "krippendorff_alpha",
    ]:
        assert key in out
    assert (out["n_units"], out["n_raters"]) == (8, 2)

    scale = tmp_path / "scale.csv"
    scale.write_text("id,q1,q2,q3\n1,1,2,1\n2,2,2,3\n3,3,3,3\n4,4,5,4\n5,5,5,4\n")
    out = json.loads(call("reliability", "--input", str(scale), "--columns", "q1,q2,q3"))
    assert {"n", "alpha", "alpha_ci_low", "alpha_ci_high"} <= set(out)
    assert out["n"] == 5


def test_json_never_contains_nan(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("pre,post\n1,2\n2,3\n3,4\n")  # identical differences: t and d_z undefined
    text = call("paired", "--input", str(path), "--before", "pre", "--after", "post")
    assert "NaN" not in text
    assert json.loads(text)["t"] is None


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["paired", "--before", "a", "--after", "b"], "input file not found"),
        ("", ["paired", "--before", "a", "--after", "b"], "input file is empty"),
        ("a,b\n", ["paired", "--before", "a", "--after", "b"], "no data rows"),
        (
            "a,b\n1,2\n3,4\n",
            ["paired", "--before", "a", "--after", "c"],
            "column 'c' not found; available columns: a, b",
        ),
        (
            "a,b\n1,2\n3,x\n5,6\n",
            ["paired", "--before", "a", "--after", "b"],
            "column 'b' has a non-numeric value 'x' (row 2)",
        ),
        # only an empty cell is missing: pandas' own missing-value words are not quietly dropped
        (
            "a,b\n1,2\n3,n/a\n5,6\n",
            ["paired", "--before", "a", "--after", "b"],
            "column 'b' has a non-numeric value 'n/a' (row 2)",
        ),
        (
            "a,b\n1,2\nNA,4\n5,6\n",
            ["paired", "--before", "a", "--after", "b"],
            "column 'a' has a non-numeric value 'NA' (row 2)",
        ),
        (
            "u,t,y,g\n1,1,5,2\n1,2,6,2\n2,1,5,0\n2,2,5,0\n",
            ["did", "--unit", "u", "--time", "t", "--outcome", "y", "--first-treated", "g"],
            "too few units",
        ),
        (
            "u,t,y,g\n1,1,5,2\n1,2,6,2\n2,1,5,2\n2,2,5,2\n3,1,1,2\n3,2,2,2\n",
            ["did", "--unit", "u", "--time", "t", "--outcome", "y", "--first-treated", "g"],
            "no comparison group",
        ),
        ("u,r,g\n1,a,1\n", ["agreement", "--unit", "u", "--rater", "r", "--rating", "g"], "too few"),
        ("q1,q2\n1,2\n", ["reliability"], "too few complete respondents"),
    ],
)
def test_bad_input_gives_one_line_error_through_call_command(tmp_path, content, args, message):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError) as excinfo:
        call(args[0], "--input", str(path), *args[1:])
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_bad_input_exit_code_and_stderr_in_a_real_process(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("staff,period,score,trained\n1,1,5,2\n1,2,oops,2\n")
    result = run_cli(
        "did",
        "--input",
        str(path),
        "--unit",
        "staff",
        "--time",
        "period",
        "--outcome",
        "score",
        "--first-treated",
        "trained",
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "column 'score' has a non-numeric value 'oops'" in lines[0]
    assert result.stdout == ""

    missing = run_cli("paired", "--input", str(tmp_path / "nope.csv"), "--before", "a", "--after", "b")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "input file not found" in missing.stderr


DID_ARGS = ["--unit", "staff", "--time", "period", "--outcome", "score", "--first-treated", "first_trained"]


def test_did_verdict_through_the_command_never_prints_a_non_zero_change_as_zero(tmp_path):
    # The audit's case: 4 trained and 4 untrained staff, two periods. Treated changes -2, 0, 1, 3 (mean
    # 0.5), comparison changes 1, -1, 0, 0 (mean 0): ATT 0.5, Welch SE sqrt(14/3/4 + 2/3/4) = 1.1180,
    # 95% CI -1.691 to 2.691 (hand computation). The interval is shown to whole numbers; before the fix
    # the estimate and the detectable change also were: "a change of 0 points ... (so far 0 points, ...".
    # About n ((z_.975 + z_.8) SE / 0.5)^2 - n = 8 * 39.24 - 8 -> 306 more staff (hand computation).
    rows = ["staff,period,score,first_trained"]
    for i, change in enumerate([-2, 0, 1, 3]):
        rows += [f"t{i},1,10,2", f"t{i},2,{10 + change},2"]
    for i, change in enumerate([1, -1, 0, 0]):
        rows += [f"c{i},1,10,0", f"c{i},2,{10 + change},0"]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(rows) + "\n")
    out = json.loads(call("did", "--input", str(path), *DID_ARGS))
    simple = out["aggregations"]["simple"]
    assert simple["att"] == pytest.approx(0.5, abs=1e-12)
    assert (simple["ci_low"], simple["ci_high"]) == pytest.approx((-1.6913, 2.6913), abs=5e-5)
    assert out["verdict"] == (
        "Not enough evidence yet: about 306 more staff followed before and after would detect a change of "
        "0.5 points in the outcome (so far 0.5 points, 95% CI -2 to 3)."
    )


AGREEMENT_ARGS = ["--unit", "referral", "--rater", "auditor", "--rating", "grade"]


def test_agreement_without_any_unit_rated_twice_is_a_one_line_error(tmp_path):
    # Each referral audited by one auditor only: nothing to agree on. Before, exit 0 with all nulls.
    path = tmp_path / "single.csv"
    path.write_text("referral,auditor,grade\nr1,anna,3\nr2,bo,2\nr3,anna,4\nr4,bo,1\n")
    with pytest.raises(CommandError) as excinfo:
        call("agreement", "--input", str(path), *AGREEMENT_ARGS)
    assert str(excinfo.value) == "too few units rated by at least two raters: 0 (need at least 2)"
    # one referral audited twice is still too few
    path.write_text("referral,auditor,grade\nr1,anna,3\nr1,bo,3\nr2,bo,2\nr3,anna,4\n")
    with pytest.raises(CommandError, match=r"at least two raters: 1 \(need at least 2\)"):
        call("agreement", "--input", str(path), *AGREEMENT_ARGS)
    # and in a real process: one line on stderr, non-zero exit, no traceback
    result = run_cli("agreement", "--input", str(path), *AGREEMENT_ARGS)
    assert result.returncode != 0 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "too few units rated by at least two raters: 1" in lines[0]


def test_agreement_in_a_single_category_says_why_the_statistics_are_null(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("referral,auditor,grade\nr1,anna,3\nr1,bo,3\nr2,anna,3\nr2,bo,3\nr3,anna,3\n")
    out = json.loads(call("agreement", "--input", str(path), *AGREEMENT_ARGS, "--level", "ordinal"))
    assert out["cohen_kappa"] is None and out["krippendorff_alpha"] is None
    assert out["n_pairable_units"] == 2
    assert "every rating is '3'" in out["notes"]["categories"]
    assert "undefined" in out["notes"]["categories"]
    text = call("agreement", "--input", str(path), *AGREEMENT_ARGS, "--format", "text")
    assert "Note (categories): every rating is '3'" in text


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity", "1e999"])
def test_infinite_values_are_non_numeric(tmp_path, bad):
    path = tmp_path / "inf.csv"
    path.write_text(f"pre,post\n1,2\n2,{bad}\n3,5\n")
    with pytest.raises(CommandError) as excinfo:
        call("paired", "--input", str(path), "--before", "pre", "--after", "post")
    assert str(excinfo.value) == f"column 'post' has a non-numeric value '{bad}' (row 2)"
    # a column that pandas reads as numbers (inf parsed as a float) is caught as well
    path.write_text(f"staff,period,score,first_trained\n1,1,5,2\n1,2,{bad},2\n2,1,5,0\n2,2,6,0\n")
    with pytest.raises(CommandError, match="column 'score' has a non-numeric value"):
        call("did", "--input", str(path), *DID_ARGS)


def test_empty_first_treated_means_never_treated(tmp_path):
    rng = np.random.default_rng(11)
    rows = []
    for unit in range(40):
        first = 3 if unit < 20 else 0
        for period in range(1, 5):
            y = 10 + unit % 5 + period + (2.0 if first and period >= first else 0.0) + rng.normal(0, 1)
            rows.append((unit, period, round(y, 3), first))
    frame = pd.DataFrame(rows, columns=["staff", "period", "score", "first_trained"])
    zero, empty = tmp_path / "zero.csv", tmp_path / "empty.csv"
    frame.to_csv(zero, index=False)
    blanked = frame.astype({"first_trained": object})
    blanked.loc[blanked.first_trained == 0, "first_trained"] = ""
    blanked.to_csv(empty, index=False)
    assert ",," not in empty.read_text() and ",\n" in empty.read_text()  # the cells really are empty
    with_zero = json.loads(call("did", "--input", str(zero), *DID_ARGS))
    with_empty = json.loads(call("did", "--input", str(empty), *DID_ARGS))
    assert with_empty["n_never_treated_units"] == 20
    assert with_empty == with_zero


def test_paired_max_score_and_reliability_report_hake_gain_and_reliable_change(tmp_path):
    # Hand computation: means 45 -> 68 of 100, Hake's gain (68 - 45) / (100 - 45) = 0.4182. Reliable
    # change: SD before 12.910, SE_diff = 12.910 sqrt(2) sqrt(1 - 0.8) = 8.165, criterion 1.96 x 8.165
    # = 16.0; changes +30, +25, +35, +2 -> 3 improved, 1 unchanged, 0 worse.
    path = tmp_path / "scores.csv"
    path.write_text("pre,post\n40,70\n50,75\n30,65\n60,62\n")
    args = ["paired", "--input", str(path), "--before", "pre", "--after", "post"]
    out = json.loads(call(*args, "--max-score", "100", "--reliability", "0.8"))
    assert out["hake_gain"] == pytest.approx(23 / 55, abs=1e-12)
    change = out["reliable_change"]
    assert change["se_diff"] == pytest.approx(np.std([40, 50, 30, 60], ddof=1) * np.sqrt(0.4), abs=1e-12)
    assert (change["n_improved"], change["n_unchanged"], change["n_worse"]) == (3, 1, 0)
    text = call(*args, "--max-score", "100", "--reliability", "0.8", "--format", "text")
    assert "hake_gain: 0.418" in text and "3 improved, 1 unchanged, 0 worse" in text
    plain = json.loads(call(*args))
    assert plain["hake_gain"] is None and plain["reliable_change"] is None
    with pytest.raises(CommandError, match="--reliability must be at least 0 and below 1, got 1"):
        call(*args, "--reliability", "1")
    with pytest.raises(CommandError, match=r"column 'post' has a score 75 above --max-score 70 \(row 2\)"):
        call(*args, "--max-score", "70")
    with pytest.raises(CommandError, match="not a finite number: 'inf'"):
        call(*args, "--max-score", "inf")
