"""Load the default front-door referral audit rubric (version 1) into the instrument engine.

The wording was written for this project. Each criterion is graded Outstanding 4, Good 3,
Requires improvement 2 or Inadequate 1, and every grade has a descriptor saying what it looks
like in a referral. All criteria form one scale, ``referral_quality``, whose mean the audit
turns into an overall grade and a 0-100 score (see practice/grading.py).

It depends on the latest surveys migration at the time of writing; it uses historical models
only and is reversible (reversing deletes the rubric, which fails while audits still use it).
"""

from django.db import migrations

SLUG = "front-door-referral-audit"
GRADE_LABELS = {"4": "Outstanding", "3": "Good", "2": "Requires improvement", "1": "Inadequate"}

# code, criterion, hint, descriptors for grades 4, 3, 2, 1
CRITERIA = [
    (
        "reason_clear",
        "The reason for referral is clear and linked to the concerns",
        "Could the front door tell, from the first paragraph, why this child was referred today?",
        (
            "States plainly what happened or was seen, why it worries the referrer now, and links each concern to what it means for the child.",
            "The reason is clear and mostly linked to the concerns; a reader would not need to ring back to understand it.",
            "A reason is given but is vague or general (\"concerns about home\"), or the link to the child's experience is left for the reader to infer.",
            "No clear reason, or the stated reason does not match the information given.",
        ),
    ),
    (
        "exploitation_indicators",
        "Exploitation indicators are identified",
        "For example going missing, older associates, unexplained gifts or money, changes in online contact, or use of substances.",
        (
            "Indicators of sexual or criminal exploitation are named, described with the evidence for each, and considered even when they were not the presenting concern.",
            "The relevant indicators that were present are named and described.",
            "Some indicators appear in the text but are not recognised as exploitation, or are listed without evidence.",
            "Clear indicators were present but missed, or the child's behaviour is described in terms that blame them.",
        ),
    ),
    (
        "risk_analysed",
        "Risk is analysed, with a recommendation",
        "Does the referral say what might happen to the child, how likely and how serious it is, and what the referrer recommends?",
        (
            "Weighs harm, likelihood and protective factors in the referrer's own analysis and ends with a clear, reasoned recommendation.",
            "Gives a sound view of the risk and a recommendation, with some reasoning.",
            "Describes events but leaves the analysis of risk to the reader, or recommends without saying why.",
            "No view of risk and no recommendation.",
        ),
    ),
    (
        "child_voice",
        "The child's voice and views are recorded",
        "The child's own words, wishes and feelings, or why they could not be obtained.",
        (
            "Records what the child said in their own words, how they seemed, and what they want to happen, in a way suited to their age and understanding.",
            "The child's views are recorded, though partly in the referrer's words.",
            "Mentions the child was spoken to but gives little of what they said or wanted.",
            "The child is not mentioned as a person with a view, and no reason is given.",
        ),
    ),
    (
        "history_siblings",
        "History and siblings are considered",
        "Previous concerns, involvement of services, other children in the household.",
        (
            "Sets the current concern against known history and patterns, and considers every other child in the household.",
            "Known history and siblings are noted and taken into account.",
            "History or siblings are mentioned in passing but not connected to the current concern.",
            "No reference to history or to other children, although it was available or relevant.",
        ),
    ),
    (
        "consent",
        "Parents are informed or consent is sought, or the reason why not is given",
        "Where informing parents would put the child at greater risk, the referral should say so.",
        (
            "Records whether parents know and what they said, or explains clearly why telling them would increase the risk to the child.",
            "Records that parents were informed or consent was sought, or why not.",
            "Unclear whether parents know, or the reason for not telling them is not explained.",
            "Nothing about consent or informing parents.",
        ),
    ),
    (
        "fact_opinion",
        "Fact is separated from opinion",
        "Who saw or said what, and when, kept apart from the referrer's interpretation.",
        (
            "Observations, reports from others and the referrer's professional judgement are clearly distinguished and sourced, with dates.",
            "Facts and opinions are mostly distinguished and sourced.",
            "Facts and opinions are mixed so that the reader cannot always tell which is which.",
            "Mostly opinion or hearsay presented as fact.",
        ),
    ),
    (
        "levels_of_need",
        "The levels-of-need guidance is used",
        "The local threshold or continuum-of-need document.",
        (
            "Places the child's needs on the local levels of need with reasons that refer to the guidance.",
            "States a level of need that fits the information given.",
            "States a level of need without reasons, or one that does not fit the information.",
            "No reference to the levels of need.",
        ),
    ),
    (
        "timely",
        "The referral was timely",
        "Made as soon as the concern was known, and at once where a child was at risk of significant harm.",
        (
            "Made promptly, with urgent concerns telephoned at once and confirmed in writing as required.",
            "Made within the expected time for the level of concern.",
            "Some delay that did not change what happened, or urgency not flagged.",
            "Significant delay that left the child at risk, or a concern that should have been referred earlier.",
        ),
    ),
    (
        "desired_outcome",
        "The desired outcome is stated",
        "What the referrer hopes will happen for the child as a result of the referral.",
        (
            "States the outcome sought for the child and what the referrer and their agency will do next.",
            "States what the referrer wants to happen.",
            "The hoped-for outcome is implied but not stated.",
            "No indication of what the referral is meant to achieve.",
        ),
    ),
    (
        "multi_agency",
        "Multi-agency information is shared",
        "What other agencies know, and who else is involved with the child and family.",
        (
            "Includes relevant information from other agencies, names who else is involved, and notes any gaps that need checking.",
            "Shares the relevant information the referrer's agency holds and names others involved.",
            "Little information beyond the referrer's own contact, or other agencies mentioned without what they know.",
            "No multi-agency information, although it was available or clearly needed.",
        ),
    ),
]


def load_rubric(apps, schema_editor):
    Instrument = apps.get_model("surveys", "Instrument")
    InstrumentVersion = apps.get_model("surveys", "InstrumentVersion")
    Scale = apps.get_model("surveys", "Scale")
    Item = apps.get_model("surveys", "Item")
    rubric = Instrument.objects.create(
        name="Front-door referral audit",
        slug=SLUG,
        kind="audit_rubric",
        description=(
            "Eleven criteria for auditing the quality of a referral to children's social care, each "
            "graded Outstanding, Good, Requires improvement or Inadequate with evidence. Written for "
            "Closing the Loop."
        ),
        is_default=True,
    )
    version = InstrumentVersion.objects.create(instrument=rubric, number=1)
    scale = Scale.objects.create(
        version=version, code="referral_quality", name="Referral quality", construct="referral_quality"
    )
    Item.objects.bulk_create(
        Item(
            version=version,
            scale=scale,
            position=position,
            code=code,
            text=text,
            help_text=hint,
            kind="rubric_4",
            options=[
                {"value": value, "label": GRADE_LABELS[value], "descriptor": descriptor}
                for value, descriptor in zip(("4", "3", "2", "1"), descriptors)
            ],
            required=True,
        )
        for position, (code, text, hint, descriptors) in enumerate(CRITERIA, start=1)
    )


def unload_rubric(apps, schema_editor):
    apps.get_model("surveys", "Instrument").objects.filter(slug=SLUG).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0001_initial"),
        ("surveys", "0003_default_cse_instrument"),
    ]

    operations = [migrations.RunPython(load_rubric, unload_rubric)]
