"""Keep invitation tokens out of every log line.

A trainee's link is /q/<token>/ and the token is all it takes to answer, or opt out, in their name.
Django logs the path of refused and failed requests ("Forbidden (CSRF cookie not set.): /q/...") and
gunicorn logs every request's path, so both pass their lines through ``redact_invitation_tokens``."""

import logging
import re

INVITATION_PATH = re.compile(r"/q/[^/\s?#\"']+")
REDACTED = "/q/<token>"


def redact_invitation_tokens(text: str) -> str:
    return INVITATION_PATH.sub(REDACTED, text)


class RedactInvitationTokens(logging.Filter):
    """Rewrites a record's message with the tokens replaced (the arguments are merged in first,
    since Django passes the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_invitation_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
