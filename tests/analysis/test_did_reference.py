"""Staggered DiD against R's ``did`` package on its own example data (``mpdta``), to the last digits.

Data and provenance: ``refdata/README.md``. The R numbers below are R's ``did`` with analytic standard
errors (``bstrap = FALSE``), unconditional (``xformla = ~1``), varying base period (the default), as
exported to ``ref_attgt.csv`` and ``ref_aggte.csv`` of the csdid repository. They are reproduced with
``small_sample_correction=False``; the default adds the sqrt(n / (n - 1)) factor and so gives slightly
larger SEs (checked below). Tolerance 1e-9 (R's values carry 15 significant digits; ours agree to ~1e-15).
"""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from analysis.stats.did import staggered_did

REFDATA = Path(__file__).resolve().parent / "refdata"
TOL = 1e-9

# (group, time): (ATT, SE) from R did::att_gt(..., control_group = "nevertreated", bstrap = FALSE)
R_ATT_GT = {
    "never-treated": {
        (2004, 2004): (-0.0105032462209624, 0.0232510363681664),
        (2004, 2005): (-0.0704231581031467, 0.0309847667572767),
        (2004, 2006): (-0.137258738889403, 0.0364356642876865),
        (2004, 2007): (-0.100811363085404, 0.0343592258346732),
        (2006, 2004): (0.00652011242423301, 0.0233268051418047),
        (2006, 2005): (-0.00275081875051882, 0.0195585610358817),
        (2006, 2006): (-0.00459460695286304, 0.0177551966592763),
        (2006, 2007): (-0.0412244715462175, 0.0202291807041068),
        (2007, 2004): (0.0305066555832928, 0.01503356028013),
        (2007, 2005): (-0.00272589288611625, 0.0163958328955344),
        (2007, 2006): (-0.0310871193896889, 0.0178775113133435),
        (2007, 2007): (-0.0260544107191966, 0.0166554353492522),
    },
    # control_group = "notyettreated"
    "not-yet-treated": {
        (2004, 2004): (-0.0193723636759221, 0.0223101128836806),
        (2004, 2005): (-0.0783190990620607, 0.0303902285433973),
        (2004, 2006): (-0.136274346328678, 0.03540338496891),
        (2004, 2007): (-0.100811363085404, 0.0343592258346732),
        (2006, 2004): (-0.00256255094261098, 0.0225302351453388),
        (2006, 2005): (-0.00193924609578875, 0.019042158605819),
        (2006, 2006): (0.00466087631997615, 0.0163355842468236),
        (2006, 2007): (-0.0412244715462175, 0.0202291807041068),
        (2007, 2004): (0.0297593647610311, 0.0145335416386514),
        (2007, 2005): (-0.0024106128000969, 0.0160312963755178),
        (2007, 2006): (-0.0310871193896889, 0.0178775113133435),
        (2007, 2007): (-0.0260544107191966, 0.0166554353492522),
    },
}

# R did::aggte(..., bstrap = FALSE): overall.att and overall.se for each type
R_AGGREGATES = {
    "never-treated": {
        "simple": (-0.0399512751551763, 0.0120340127701854),
        "group": (-0.0310182822287484, 0.0124460593209979),
        "dynamic": (-0.0772398214573151, 0.0199649890618494),
    },
    "not-yet-treated": {
        "simple": (-0.0397636256230437, 0.0120524247873419),
        "group": (-0.030462228112565, 0.0125751201316818),
        "dynamic": (-0.0773993139705847, 0.0195601769463944),
    },
}

# aggte(type = "group"): att.egt and se.egt per cohort
R_GROUP = {
    "never-treated": {
        2004: (-0.0797491265747291, 0.0263677994350273),
        2006: (-0.0229095392495403, 0.0167033302551619),
        2007: (-0.0260544107191966, 0.0166554353492522),
    },
    "not-yet-treated": {
        2004: (-0.0836942930380162, 0.0257015997680069),
        2006: (-0.0182817976131207, 0.0159222358245001),
        2007: (-0.0260544107191966, 0.0166554353492522),
    },
}

# aggte(type = "dynamic"): att.egt and se.egt per event time
R_DYNAMIC = {
    "never-treated": {
        -3: (0.0305066555832928, 0.01503356028013),
        -2: (-0.000563084626385429, 0.01329164473655),
        -1: (-0.0244587449711696, 0.0142364022105193),
        0: (-0.0199318167892593, 0.0118263640580582),
        1: (-0.0509573670651939, 0.016893476268678),
        2: (-0.137258738889403, 0.0364356642876865),
        3: (-0.100811363085404, 0.0343592258346733),
    },
    "not-yet-treated": {
        -3: (0.0297593647610311, 0.0145335416386514),
        -2: (-0.00244615388606511, 0.0131203504342708),
        -1: (-0.0242689034145076, 0.0144636816758019),
        0: (-0.0189221990834249, 0.0120445686892691),
        1: (-0.0535893473848319, 0.016946385539125),
        2: (-0.136274346328678, 0.03540338496891),
        3: (-0.100811363085404, 0.0343592258346733),
    },
}


@pytest.fixture(scope="module")
def mpdta():
    wide = pd.read_csv(REFDATA / "mpdta_emp.csv")
    long = wide.melt(id_vars=["countyreal", "first_treat"], var_name="column", value_name="emp")
    long["year"] = long["column"].str[3:].astype(int)
    long["lemp"] = np.log(long["emp"].astype(float))
    return long[["countyreal", "year", "lemp", "first_treat"]].sort_values(["countyreal", "year"])


def test_reference_data_is_the_published_mpdta(mpdta):
    # did documentation: 500 counties, 2003-2007, cohorts 2004 / 2006 / 2007 and never treated.
    counties = mpdta.groupby("countyreal")["first_treat"].first()
    assert len(mpdta) == 2500 and len(counties) == 500
    assert counties.value_counts().to_dict() == {0: 309, 2007: 131, 2006: 40, 2004: 20}
    # first rows of data(mpdta) as printed in its documentation: county 8001, lemp 8.461469 in 2003
    assert mpdta.iloc[0]["lemp"] == pytest.approx(8.461469, abs=5e-7)


@pytest.mark.parametrize("control", ["never-treated", "not-yet-treated"])
def test_att_gt_and_aggregations_match_r_did(mpdta, control):
    result = staggered_did(
        mpdta, "countyreal", "year", "lemp", "first_treat", control=control, small_sample_correction=False
    )
    assert result.n_units == 500
    got = {(e.group, e.time): (e.att, e.se) for e in result.att_gt}
    assert set(got) == set(R_ATT_GT[control])
    for cell, (att, se) in R_ATT_GT[control].items():
        assert got[cell][0] == pytest.approx(att, abs=TOL), cell
        assert got[cell][1] == pytest.approx(se, abs=TOL), cell
    for name, (att, se) in R_AGGREGATES[control].items():
        assert result.aggregations[name].att == pytest.approx(att, abs=TOL), name
        assert result.aggregations[name].se == pytest.approx(se, abs=TOL), name
    groups = {g.group: (g.att, g.se) for g in result.group_effects}
    for g, (att, se) in R_GROUP[control].items():
        assert groups[g] == pytest.approx((att, se), abs=TOL), g
    events = {e.event_time: (e.att, e.se) for e in result.event_study}
    assert set(events) == set(R_DYNAMIC[control])
    for e, (att, se) in R_DYNAMIC[control].items():
        assert events[e] == pytest.approx((att, se), abs=TOL), e


def test_point_estimates_match_the_did_documentation(mpdta):
    # Source: the did package's introductory example as run and printed in an RPubs note
    # (rstudio-pubs-static.s3.amazonaws.com/736765_c47909c746704c79922fdc03ab352edf.html):
    # summary(att_gt(yname = "lemp", gname = "first.treat", idname = "countyreal", tname = "year",
    # xformla = ~1, data = mpdta, est_method = "reg")), 4 decimals; without covariates "reg" equals the
    # default "dr". Its SEs are bootstrapped (random), so only the ATTs are compared. Independent of the
    # csdid repository that supplied the 15-digit values above.
    published = {
        (2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373, (2004, 2007): -0.1008,
        (2006, 2004): 0.0065, (2006, 2005): -0.0028, (2006, 2006): -0.0046, (2006, 2007): -0.0412,
        (2007, 2004): 0.0305, (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261,
    }  # fmt: skip
    result = staggered_did(mpdta, "countyreal", "year", "lemp", "first_treat")
    for e in result.att_gt:
        assert e.att == pytest.approx(published[(e.group, e.time)], abs=5e-5)


def test_default_small_sample_correction_only_inflates_ses_by_at_most_sqrt_n_over_n_minus_1(mpdta):
    plain = staggered_did(mpdta, "countyreal", "year", "lemp", "first_treat", small_sample_correction=False)
    corrected = staggered_did(mpdta, "countyreal", "year", "lemp", "first_treat")
    for a, b in zip(plain.att_gt, corrected.att_gt, strict=True):
        assert b.att == a.att
        # each cell's variance mixes the treated cohort (n_t) and the comparison group (n_c) terms
        smallest = min(b.n_treated, b.n_comparison)
        assert a.se < b.se <= a.se * np.sqrt(smallest / (smallest - 1)) + 1e-15
    # the 2004 cohort has 20 counties: its cells are up to sqrt(20 / 19) = 2.6% wider
    assert corrected.att_gt[0].se / plain.att_gt[0].se == pytest.approx(1.0217, abs=5e-4)


def test_r_did_standard_errors_through_the_command(mpdta, tmp_path):
    path = tmp_path / "mpdta.csv"
    mpdta.to_csv(path, index=False)
    args = ["did", "--input", str(path), "--unit", "countyreal", "--time", "year", "--outcome", "lemp"]
    args += ["--first-treated", "first_treat", "--no-small-sample-correction"]
    out = call(*args)
    simple = out["aggregations"]["simple"]
    assert simple["att"] == pytest.approx(R_AGGREGATES["never-treated"]["simple"][0], abs=TOL)
    assert simple["se"] == pytest.approx(R_AGGREGATES["never-treated"]["simple"][1], abs=TOL)
    default = call(*args[:-1])
    assert default["aggregations"]["simple"]["se"] > simple["se"]


def call(*args):
    buffer = io.StringIO()
    call_command("analyse", *args, stdout=buffer)
    return json.loads(buffer.getvalue())
