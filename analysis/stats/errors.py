"""Exceptions raised by the statistics core."""


class AnalysisInputError(ValueError):
    """The data cannot support the requested analysis.

    Raised for problems a user can fix (a missing column, too few units, a cohort with no comparison
    group). The message is a single line written for the person who supplied the data, so the command
    line can print it as it is, without a traceback.
    """
