"""The default child sexual exploitation questionnaire, written for this project.

Loaded by a migration so that every deployment offers it to trainers to copy and adapt. The content
lives here (not imported from app code) so the migration keeps working as the app changes. Scale
codes are read by the impact report and must stay stable.
"""

from django.db import migrations

SLUG = "cse-default"

NOT_SURE = {"value": "dk", "label": "I'm not sure"}
TRUE_FALSE = [{"value": "true", "label": "True"}, {"value": "false", "label": "False"}, NOT_SURE]
LIKERT_5 = [
    {"value": "1", "label": "Strongly disagree"},
    {"value": "2", "label": "Disagree"},
    {"value": "3", "label": "Neither agree nor disagree"},
    {"value": "4", "label": "Agree"},
    {"value": "5", "label": "Strongly agree"},
]
CONFIDENCE = [
    {"value": str(v), "label": {0: "0 (not at all confident)", 10: "10 (completely confident)"}.get(v, str(v))}
    for v in range(11)
]


def choices(*labels):
    return [{"value": letter, "label": label} for letter, label in zip("abcdef", labels)] + [NOT_SURE]


SCALES = [
    ("knowledge", "Knowledge of exploitation, the law and referral", "knowledge"),
    ("confidence", "Confidence to recognise, ask, record, refer and escalate", "confidence"),
    ("attitudes", "Attitudes: protection rather than blame", "attitudes"),
    ("reaction", "Reaction to the training", "reaction"),
    ("intention", "Intention to apply the learning", "intention"),
]

# (code, scale, kind, text, help text, options, correct answer, reverse coded, required)
ITEMS = [
    (
        "k_indicators", "knowledge", "single_choice",
        "Which of these is most likely to be a sign that a 14-year-old is being sexually exploited?",
        "", choices(
            "They are quieter than usual in the weeks before exams",
            "They have a new phone and clothes nobody can account for, and stay out overnight without saying where",
            "They have moved to a new group of friends at the start of secondary school",
            "They spend most evenings gaming online with school friends",
        ), "b", False, True,
    ),
    (
        "k_grooming", "knowledge", "true_false",
        "Grooming usually builds trust and dependency over time, and can target a child's parents or carers as well as the child.",
        "", TRUE_FALSE, "true", False, True,
    ),
    (
        "k_online", "knowledge", "single_choice",
        "A 15-year-old tells you that an adult she met online is asking for a nude image and threatening to "
        "share an earlier one if she refuses. What is this?",
        "", choices(
            "Image sharing between young people, so not a safeguarding matter",
            "Online sexual exploitation and a crime, which needs a safeguarding referral",
            "Cyberbullying, for the school to deal with on its own",
            "A concern only once the earlier image has actually been shared",
        ), "b", False, True,
    ),
    (
        "k_boys", "knowledge", "true_false",
        "Boys and young men are seldom sexually exploited, so warning signs in boys need less attention.",
        "", TRUE_FALSE, "false", False, True,
    ),
    (
        "k_age_of_consent", "knowledge", "single_choice",
        "In England, what is the legal age of consent to sexual activity?",
        "", choices("14", "16", "17", "18"), "b", False, True,
    ),
    (
        "k_under_13", "knowledge", "true_false",
        "In law, a child under 13 cannot consent to any sexual activity.",
        "", TRUE_FALSE, "true", False, True,
    ),
    (
        "k_under_18", "knowledge", "true_false",
        "A 17-year-old who says their relationship with a 25-year-old is their own choice cannot be a "
        "victim of child sexual exploitation.",
        "", TRUE_FALSE, "false", False, True,
    ),
    (
        "k_exchange", "knowledge", "single_choice",
        "What makes child sexual abuse 'exploitation' in the definition used in England?",
        "", choices(
            "Money always changes hands",
            "There is always physical contact",
            "The child is given something they need or want, or the abuser gains money or status, in exchange for sexual activity",
            "The child is in the care of the local authority",
        ), "c", False, True,
    ),
    (
        "k_missing", "knowledge", "true_false",
        "Going missing from home or care again and again is a recognised warning sign of exploitation.",
        "", TRUE_FALSE, "true", False, True,
    ),
    (
        "k_good_referral", "knowledge", "single_choice",
        "Which referral gives the front door what it needs to decide?",
        "", choices(
            "'Worried about this young person, please assess.'",
            "'I have a bad feeling about this family.'",
            "One that says what was seen or said (in the child's words where possible), why it puts the child "
            "at risk, what has been done already and what you are asking for",
            "One that lists every contact with the family since the child was born",
        ), "c", False, True,
    ),
    (
        "k_fact_opinion", "knowledge", "true_false",
        "A good referral keeps what you saw or were told separate from your opinion about it.",
        "", TRUE_FALSE, "true", False, True,
    ),
    (
        "k_threshold", "knowledge", "single_choice",
        "You believe a young person is at risk of serious harm tonight. What do you do first?",
        "", choices(
            "Email a referral and wait for a reply over the next few days",
            "Call the police on 999 and contact children's social care straight away",
            "Raise it at the next team meeting",
            "Ask the young person to keep a diary and review it next week",
        ), "b", False, True,
    ),
    (
        "k_escalation", "knowledge", "single_choice",
        "Your referral about a young person at risk of exploitation is closed with no further action and you "
        "are still worried. What should you do?",
        "", choices(
            "Accept the decision: the front door has the final say",
            "Use the partnership's escalation procedure: discuss it with the decision-maker, then their manager, "
            "and record each step",
            "Send the same referral again every day until it is accepted",
            "Tell the family that you disagree with children's social care",
        ), "b", False, True,
    ),
    (
        "c_recognise", "confidence", "confidence_0_10",
        "How confident are you that you can recognise when a child may be being sexually exploited, including online?",
        "0 means not at all confident, 10 means completely confident.", CONFIDENCE, "", False, True,
    ),
    (
        "c_ask", "confidence", "confidence_0_10",
        "How confident are you that you can ask a young person about possible exploitation without making them "
        "feel blamed?",
        "0 means not at all confident, 10 means completely confident.", CONFIDENCE, "", False, True,
    ),
    (
        "c_record", "confidence", "confidence_0_10",
        "How confident are you that you can record what a child tells you accurately, in their own words?",
        "0 means not at all confident, 10 means completely confident.", CONFIDENCE, "", False, True,
    ),
    (
        "c_refer", "confidence", "confidence_0_10",
        "How confident are you that you can make a referral that sets out the concern, the risk and what you "
        "are asking for?",
        "0 means not at all confident, 10 means completely confident.", CONFIDENCE, "", False, True,
    ),
    (
        "c_escalate", "confidence", "confidence_0_10",
        "How confident are you that you can challenge a decision and escalate it when your referral is not "
        "accepted and you are still worried?",
        "0 means not at all confident, 10 means completely confident.", CONFIDENCE, "", False, True,
    ),
    (
        "a_knew_risks", "attitudes", "likert_5",
        "Young people who go off with older men usually know what they are getting into.",
        "", LIKERT_5, "", True, True,
    ),
    (
        "a_lifestyle", "attitudes", "likert_5",
        "Some teenagers choose a risky lifestyle, and there is only so much professionals can do about it.",
        "", LIKERT_5, "", True, True,
    ),
    (
        "a_returns", "attitudes", "likert_5",
        "A young person who keeps going back to the people exploiting them still needs protecting, not blaming.",
        "", LIKERT_5, "", False, True,
    ),
    (
        "a_own_fault", "attitudes", "likert_5",
        "If a young person keeps going missing after being warned, it is mostly their own responsibility.",
        "", LIKERT_5, "", True, True,
    ),
    (
        "a_boys", "attitudes", "likert_5",
        "Boys who are sexually exploited are victims in exactly the same way as girls.",
        "", LIKERT_5, "", False, True,
    ),
    (
        "a_gifts", "attitudes", "likert_5",
        "A 16- or 17-year-old who accepts gifts or money for sex is making a choice rather than being exploited.",
        "", LIKERT_5, "", True, True,
    ),
    (
        "r_relevant", "reaction", "likert_5",
        "The training was relevant to my work.", "", LIKERT_5, "", False, False,
    ),
    (
        "r_quality", "reaction", "likert_5",
        "The training was well prepared and well delivered.", "", LIKERT_5, "", False, False,
    ),
    (
        "r_recommend", "reaction", "likert_5",
        "I would recommend this training to a colleague.", "", LIKERT_5, "", False, False,
    ),
    (
        "i_apply", "intention", "likert_5",
        "I will use what I learned in my work within the next month.", "", LIKERT_5, "", False, False,
    ),
    (
        "i_different", "intention", "likert_5",
        "I know what I will do differently the next time I am worried about exploitation.",
        "", LIKERT_5, "", False, False,
    ),
    (
        "i_support", "intention", "likert_5",
        "My manager and team will support me to put this learning into practice.", "", LIKERT_5, "", False, False,
    ),
    (
        "comments", None, "free_text",
        "Is there anything else you would like to tell us about the training?",
        "Do not write the names of children, families or colleagues, or any detail that could identify them.",
        [], "", False, False,
    ),
]


def load(apps, schema_editor):
    Instrument = apps.get_model("surveys", "Instrument")
    InstrumentVersion = apps.get_model("surveys", "InstrumentVersion")
    Scale = apps.get_model("surveys", "Scale")
    Item = apps.get_model("surveys", "Item")
    if Instrument.objects.filter(slug=SLUG).exists():
        return
    instrument = Instrument.objects.create(
        name="Child sexual exploitation: knowledge, confidence and attitudes",
        slug=SLUG,
        kind="questionnaire",
        is_default=True,
        description=(
            "The default questionnaire for courses on child sexual exploitation, written for Closing the Loop. "
            "Use it before the session, straight after it and at follow-ups. Copy it to adapt the questions "
            "to your course."
        ),
    )
    version = InstrumentVersion.objects.create(instrument=instrument, number=1)
    scales = {
        code: Scale.objects.create(version=version, code=code, name=name, construct=construct)
        for code, name, construct in SCALES
    }
    for position, (code, scale, kind, text, help_text, options, correct, reverse, required) in enumerate(
        ITEMS, start=1
    ):
        Item.objects.create(
            version=version,
            scale=scales.get(scale),
            position=position,
            code=code,
            text=text,
            help_text=help_text,
            kind=kind,
            options=options,
            correct_answer=correct,
            reverse_coded=reverse,
            required=required,
        )


def unload(apps, schema_editor):
    # Refuses (PROTECT) once anyone has answered it, which is the right outcome: answers keep their wording.
    apps.get_model("surveys", "Instrument").objects.filter(slug=SLUG).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0002_administrations_invitations")]

    operations = [migrations.RunPython(load, unload)]
